package nook

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/nookrun/nook/image"
)

func newImportCmd() *cobra.Command {
	var changes []string
	var message, platform string
	c := &cobra.Command{
		Use:   "import [OPTIONS] FILE|- [REFERENCE]",
		Short: "Import a root filesystem tar as a one-layer image",
		Long: `Import makes an image of one layer from a root filesystem tar (plain, gzip or
zstd; "-" reads standard input) and prints its ID. --change applies Dockerfile
instructions to the image's config: CMD, ENTRYPOINT, ENV, EXPOSE, LABEL,
STOPSIGNAL, USER and WORKDIR.

  nook import rootfs.tar myimage:1
  nook import --change 'CMD ["sh"]' --change 'ENV LANG=C.UTF-8' - myimage < rootfs.tar`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ref := ""
			if len(args) == 2 {
				ref = args[1]
			}
			return importImage(cmd, args[0], ref, changes, image.ImportOptions{Message: message, Platform: platform})
		},
	}
	c.Flags().StringArrayVarP(&changes, "change", "c", nil, "Apply a Dockerfile instruction to the image's config (repeatable)")
	c.Flags().StringVarP(&message, "message", "m", "", "Set the commit message of the imported image")
	c.Flags().StringVar(&platform, "platform", "", "Set the image's platform as os/arch[/variant] (default the host's)")
	return c
}

func importImage(cmd *cobra.Command, file, ref string, changes []string, opts image.ImportOptions) error {
	cfg, err := image.ParseChanges(changes)
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	opts.Changes = cfg
	var in io.Reader = cmd.InOrStdin()
	if file != "-" {
		f, err := os.Open(file)
		if err != nil {
			return fmt.Errorf("import %s: %w", file, err)
		}
		defer f.Close()
		in = f
	}
	s, err := openStore(cmd)
	if err != nil {
		return err
	}
	img, err := s.Import(cmd.Context(), in, ref, opts)
	if err != nil {
		return err
	}
	fmt.Fprintln(cmd.OutOrStdout(), img.ID)
	return nil
}

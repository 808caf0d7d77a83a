package nook

import (
	"bufio"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/nookrun/nook/image"
)

func newImagePruneCmd() *cobra.Command {
	var all, force bool
	c := &cobra.Command{
		Use:   "prune [OPTIONS]",
		Short: "Remove unused images",
		Long: `Prune removes the images without a name (dangling), or with --all every image
no container uses, and the layers only they used. It asks first unless
--force.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !force {
				what := "all dangling images"
				if all {
					what = "all images without at least one container associated to them"
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "WARNING! This will remove %s.\nAre you sure you want to continue? [y/N] ", what)
				line, _ := bufio.NewReader(cmd.InOrStdin()).ReadString('\n')
				if a := strings.ToLower(strings.TrimSpace(line)); a != "y" && a != "yes" {
					fmt.Fprintln(cmd.ErrOrStderr())
					return nil
				}
			}
			s, err := openStore(cmd)
			if err != nil {
				return err
			}
			inUse, err := imagesInUse(s.Root())
			if err != nil {
				return err
			}
			rep, err := s.Prune(image.PruneOptions{All: all, InUse: inUse})
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if len(rep.Deleted) > 0 {
				fmt.Fprintln(w, "Deleted Images:")
				for _, n := range rep.Untagged {
					fmt.Fprintf(w, "untagged: %s\n", n)
				}
				for _, id := range rep.Deleted {
					fmt.Fprintf(w, "deleted: %s\n", id)
				}
				fmt.Fprintln(w)
			}
			fmt.Fprintf(w, "Total reclaimed space: %s\n", sizeText(rep.Reclaimed))
			return nil
		},
	}
	c.Flags().BoolVarP(&all, "all", "a", false, "Remove every image no container uses, not only dangling ones")
	c.Flags().BoolVarP(&force, "force", "f", false, "Do not ask for confirmation")
	return c
}

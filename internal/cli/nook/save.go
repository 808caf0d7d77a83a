package nook

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/nookrun/nook/image"
)

func newSaveCmd() *cobra.Command {
	var output, format string
	c := &cobra.Command{
		Use:   "save [OPTIONS] IMAGE [IMAGE...]",
		Short: "Save images to an archive",
		Long: `Save writes images to a tar archive that nook load, docker load and podman
load read: a docker-archive (the default) or an OCI archive, to the file -o
names or to standard output; or, with --format oci-dir, an OCI layout
directory. An image named by name is saved under that name, one named by
ID without a name. Layers go in uncompressed, as the store keeps them.`,
		Example: `  nook save -o busybox.tar busybox
  nook save --format oci-archive -o app.tar app:1 app:2
  nook save busybox | gzip > busybox.tar.gz`,
		Args:              cobra.MinimumNArgs(1),
		ValidArgsFunction: completeImageList,
		RunE: func(cmd *cobra.Command, args []string) error {
			return saveImages(cmd, args, output, format)
		},
	}
	c.Flags().StringVarP(&output, "output", "o", "", "Write to this file (a directory for oci-dir) instead of standard output")
	c.Flags().StringVar(&format, "format", image.FormatDockerArchive, "Archive format: docker-archive, oci-archive or oci-dir")
	c.RegisterFlagCompletionFunc("format", cobra.FixedCompletions([]string{image.FormatDockerArchive, image.FormatOCIArchive, image.FormatOCIDir}, cobra.ShellCompDirectiveNoFileComp))
	return c
}

func saveImages(cmd *cobra.Command, refs []string, output, format string) error {
	switch format {
	case image.FormatDockerArchive, image.FormatOCIArchive, image.FormatOCIDir:
	default:
		return usageErr(cmd, fmt.Errorf("--format %q: want docker-archive, oci-archive or oci-dir", format))
	}
	s, err := openStore(cmd)
	if err != nil {
		return err
	}
	if format == image.FormatOCIDir {
		if output == "" {
			return usageErr(cmd, errors.New("--format oci-dir needs -o DIRECTORY"))
		}
		return saveError(refs, s.SaveDir(cmd.Context(), output, refs))
	}
	if output == "" {
		out := cmd.OutOrStdout()
		if isTerminal(out) {
			return errors.New("refusing to write an archive to a terminal: give -o FILE, or redirect standard output")
		}
		return saveError(refs, s.Save(cmd.Context(), out, refs, format))
	}
	// Written beside the file and renamed over it once complete, so
	// that a failed save leaves no half archive (nor a damaged old one).
	tmp, err := os.CreateTemp(filepath.Dir(output), "."+filepath.Base(output)+"-*.tmp")
	if err != nil {
		return fmt.Errorf("save to %s: %w", output, err)
	}
	defer os.Remove(tmp.Name())
	if err := s.Save(cmd.Context(), tmp, refs, format); err != nil {
		tmp.Close()
		return saveError(refs, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("save to %s: %w", output, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("save to %s: %w", output, err)
	}
	if err := os.Rename(tmp.Name(), output); err != nil {
		return fmt.Errorf("save to %s: %w", output, err)
	}
	return nil
}

// saveError names the image a save could not find.
func saveError(refs []string, err error) error {
	if errors.Is(err, image.ErrNotFound) || errors.Is(err, image.ErrAmbiguous) || errors.Is(err, image.ErrInvalidReference) {
		for _, r := range refs {
			if strings.Contains(err.Error(), fmt.Sprintf("%q", r)) {
				return imageNotFound(r, err)
			}
		}
	}
	return err
}

package nook

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/nookrun/nook/image"
)

func newLoadCmd() *cobra.Command {
	var input string
	var quiet bool
	c := &cobra.Command{
		Use:   "load [OPTIONS]",
		Short: "Load images from an archive or OCI layout",
		Long: `Load stores the images of a docker-archive tar (docker save, podman save), an
OCI archive tar (podman save --format oci-archive) or an OCI layout directory,
plain or compressed with gzip or zstd. Without -i it reads an archive from
standard input:

  nook load -i busybox.tar
  docker save busybox | nook load`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return loadImages(cmd, input, quiet)
		},
	}
	c.Flags().StringVarP(&input, "input", "i", "", "Read from this archive file or OCI layout directory instead of standard input")
	c.Flags().BoolVarP(&quiet, "quiet", "q", false, "Print nothing but errors")
	return c
}

func loadImages(cmd *cobra.Command, input string, quiet bool) error {
	s, err := openStore(cmd)
	if err != nil {
		return err
	}
	var imgs []image.Image
	if input != "" {
		imgs, err = s.Load(cmd.Context(), input)
	} else {
		in := cmd.InOrStdin()
		if f, ok := in.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			return errors.New("load: no archive: give -i FILE, or pipe an archive to standard input")
		}
		imgs, err = s.LoadReader(cmd.Context(), in)
	}
	if err != nil {
		return loadError(err)
	}
	if !quiet {
		printLoaded(cmd.OutOrStdout(), imgs)
	}
	return nil
}

// loadError adds what to do to a refused archive.
func loadError(err error) error {
	switch {
	case errors.Is(err, image.ErrDigestMismatch):
		return &userError{err.Error() + " (the archive is damaged or was altered: save it again)", err}
	case errors.Is(err, image.ErrInvalidArchive):
		return &userError{err.Error() + " (the archive is damaged or not made by docker save, podman save or skopeo)", err}
	}
	return err
}

// printLoaded says what was loaded as docker load does.
func printLoaded(w io.Writer, imgs []image.Image) {
	for _, img := range imgs {
		if len(img.Names) == 0 {
			fmt.Fprintf(w, "Loaded image ID: %s\n", img.ID)
			continue
		}
		for _, n := range img.Names {
			fmt.Fprintf(w, "Loaded image: %s\n", n)
		}
	}
}

package nook

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/nookrun/nook/image"
)

func newImagesCmd(use string, aliases ...string) *cobra.Command {
	var quiet, noTrunc, all bool
	c := &cobra.Command{
		Use:     use + " [OPTIONS]",
		Aliases: aliases,
		Short:   "List images",
		Long: `List the images in the store, newest first: one line per name, and one
<none> line for an image without names.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := openStore(cmd)
			if err != nil {
				return err
			}
			imgs, err := s.List()
			if err != nil {
				return err
			}
			if quiet {
				printIDs(cmd.OutOrStdout(), imgs, noTrunc)
				return nil
			}
			return printImages(cmd.OutOrStdout(), imgs, noTrunc)
		},
	}
	c.Flags().BoolVarP(&quiet, "quiet", "q", false, "Print only image IDs")
	c.Flags().BoolVar(&noTrunc, "no-trunc", false, "Print full image IDs")
	// nook keeps no intermediate images, so all and the default agree.
	c.Flags().BoolVarP(&all, "all", "a", false, "Show all images (the same as the default: nook keeps no intermediate images)")
	return c
}

// shortID is an ID as images shows it: 12 hex digits, or in full.
func shortID(id string, noTrunc bool) string {
	if noTrunc {
		return id
	}
	h := strings.TrimPrefix(id, "sha256:")
	if len(h) > 12 {
		h = h[:12]
	}
	return h
}

// printIDs prints each image's ID once, as podman images -q does.
func printIDs(w io.Writer, imgs []image.Image, noTrunc bool) {
	for _, img := range imgs {
		fmt.Fprintln(w, shortID(img.ID, noTrunc))
	}
}

func printImages(w io.Writer, imgs []image.Image, noTrunc bool) error {
	tw := tabwriter.NewWriter(w, 0, 8, 3, ' ', 0)
	fmt.Fprintln(tw, "REPOSITORY\tTAG\tIMAGE ID\tCREATED\tSIZE")
	for _, img := range imgs {
		names := img.Names
		if len(names) == 0 {
			names = []string{""}
		}
		for _, n := range names {
			repo, tag := "<none>", "<none>"
			if n != "" {
				repo, tag = image.SplitName(n)
			}
			if strings.HasPrefix(tag, "sha256:") {
				tag = "<none>" // pulled by digest, as podman images shows it
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", repo, tag, shortID(img.ID, noTrunc), sinceText(img.Created), sizeText(img.Size))
		}
	}
	return tw.Flush()
}

// sizeText is a size in decimal units with three significant digits, as
// docker images shows it ("4.26MB", "512kB", "17B").
func sizeText(n int64) string {
	units := []string{"B", "kB", "MB", "GB", "TB", "PB"}
	f := float64(n)
	i := 0
	for f >= 1000 && i < len(units)-1 {
		f /= 1000
		i++
	}
	return fmt.Sprintf("%.3g%s", f, units[i])
}

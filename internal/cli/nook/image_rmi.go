package nook

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/nookrun/nook/image"
)

func newRmiCmd(use string, aliases ...string) *cobra.Command {
	var force bool
	c := &cobra.Command{
		Use:     use + " [-f] IMAGE [IMAGE...]",
		Aliases: aliases,
		Short:   "Remove one or more images",
		Long: `Remove untags an image named by name, and deletes it with its last name; named
by ID, the image goes with all its names (-f is needed when it has several).
Layers no remaining image uses are deleted.`,
		Args:              cobra.MinimumNArgs(1),
		ValidArgsFunction: completeImageList,
		RunE: func(cmd *cobra.Command, args []string) error {
			return removeImages(cmd, args, force)
		},
	}
	c.Flags().BoolVarP(&force, "force", "f", false, "Remove an image with several names by ID; untag an image a container uses")
	return c
}

// removeImages removes each image in turn, going on after a failure as
// docker rmi does; errors are printed in order, the last one by Run.
func removeImages(cmd *cobra.Command, refs []string, force bool) error {
	s, err := openStore(cmd)
	if err != nil {
		return err
	}
	var last error
	for _, ref := range refs {
		did, err := s.Remove(ref, image.RemoveOptions{Force: force})
		for _, line := range did {
			fmt.Fprintln(cmd.OutOrStdout(), line)
		}
		if err == nil {
			continue
		}
		if last != nil {
			fmt.Fprintf(cmd.ErrOrStderr(), "nook: %s\n", oneLine(last))
		}
		last = imageNotFound(ref, err)
	}
	return last
}

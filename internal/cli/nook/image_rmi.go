package nook

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/nookrun/nook/image"
	"github.com/nookrun/nook/run"
)

func newRmiCmd(use string, aliases ...string) *cobra.Command {
	var force bool
	c := &cobra.Command{
		Use:     use + " [OPTIONS] IMAGE [IMAGE...]",
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
	inUse, err := imagesInUse(s.Root())
	if err != nil {
		return err
	}
	var last error
	for _, ref := range refs {
		did, err := s.Remove(ref, image.RemoveOptions{Force: force, InUse: inUse})
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

// imagesInUse reports which image IDs containers (running or not) use:
// their images stay until the containers are removed.
func imagesInUse(storeRoot string) (func(string) bool, error) {
	cs, err := run.OpenContainers(storeRoot, "")
	if err != nil {
		return nil, err
	}
	list, err := cs.List()
	if err != nil {
		return nil, err
	}
	used := map[string]bool{}
	for _, c := range list {
		used[c.ImageID] = true
	}
	return func(id string) bool { return used[id] }, nil
}

package nook

import (
	"github.com/spf13/cobra"
)

// newImageCmd is "nook image", the image commands under one name as
// docker image and podman image have them.
func newImageCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "image",
		Short: "Manage images",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return c.Help()
		},
	}
	c.AddCommand(
		newImagesCmd("ls", "list"),
		newLoadCmd(),
		newImportCmd(),
		newRmiCmd("rm", "remove"),
		newTagCmd(),
		newPullCmd(),
		newPushCmd(),
		newSaveCmd(),
		newImageInspectCmd(),
		newImagePruneCmd(),
	)
	return c
}

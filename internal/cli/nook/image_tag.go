package nook

import (
	"github.com/spf13/cobra"

	"github.com/nookrun/nook/image"
)

func newTagCmd() *cobra.Command {
	return &cobra.Command{
		Use:               "tag SOURCE_IMAGE TARGET_IMAGE",
		Short:             "Give an image another name",
		Args:              cobra.ExactArgs(2),
		ValidArgsFunction: completeImages,
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := image.NormalizeName(args[1]); err != nil {
				return imageNotFound(args[1], err)
			}
			s, err := openStore(cmd)
			if err != nil {
				return err
			}
			return imageNotFound(args[0], s.Tag(args[0], args[1]))
		},
	}
}

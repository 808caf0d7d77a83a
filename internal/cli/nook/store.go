package nook

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/nookrun/nook/image"
)

// rootFlag is the global flag naming the image store.
const rootFlag = "root"

// addStoreFlags adds the global --root flag to the root command.
func addStoreFlags(root *cobra.Command) {
	root.PersistentFlags().String(rootFlag, "", "Directory of the image store (default $XDG_DATA_HOME/nook, else ~/.local/share/nook)")
}

// openStore opens the image store that --root names, else the default.
func openStore(cmd *cobra.Command) (*image.Store, error) {
	root := ""
	if f := cmd.Flag(rootFlag); f != nil {
		root = f.Value.String()
	}
	if root == "" {
		var err error
		if root, err = image.DefaultRoot(); err != nil {
			return nil, err
		}
	}
	return image.Open(root)
}

// userError is an error whose message is written for the user, still
// matching what it wraps with errors.Is.
type userError struct {
	msg string
	err error
}

func (e *userError) Error() string { return e.msg }
func (e *userError) Unwrap() error { return e.err }

// imageNotFound turns a failed lookup of ref into the line a user needs;
// other errors pass through.
func imageNotFound(ref string, err error) error {
	switch {
	case errors.Is(err, image.ErrNotFound):
		return &userError{fmt.Sprintf("image %q not found: see 'nook images', or 'nook load' it", ref), err}
	case errors.Is(err, image.ErrAmbiguous):
		return &userError{fmt.Sprintf("image ID prefix %q matches several images: give more of the ID (see 'nook images --no-trunc')", ref), err}
	case errors.Is(err, image.ErrInvalidReference):
		return &userError{fmt.Sprintf("%q is not an image name or ID: names look like busybox, busybox:1.36 or quay.io/org/app:tag", ref), err}
	}
	return err
}

// completeImages completes the image argument of a command that takes
// one image first (nook run, nook tag).
func completeImages(cmd *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	return imageNames(cmd), cobra.ShellCompDirectiveNoFileComp
}

// completeImageList completes every argument with image names (nook rmi).
func completeImageList(cmd *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
	return imageNames(cmd), cobra.ShellCompDirectiveNoFileComp
}

func imageNames(cmd *cobra.Command) []string {
	s, err := openStore(cmd)
	if err != nil {
		return nil
	}
	imgs, err := s.List()
	if err != nil {
		return nil
	}
	var names []string
	for _, img := range imgs {
		names = append(names, img.Names...)
	}
	return names
}

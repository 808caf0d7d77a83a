package nook

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/nookrun/nook/internal/atomicfile"
)

func newPushCmd() *cobra.Command {
	var f remoteFlags
	var quiet bool
	var digestFile string
	c := &cobra.Command{
		Use:   "push [OPTIONS] IMAGE [DESTINATION]",
		Short: "Upload an image to a registry",
		Long: `Push uploads an image from the store to a registry: to the registry and
repository its name says, or to DESTINATION (REGISTRY/REPOSITORY[:TAG]).
Layers are sent compressed with gzip; those the registry has are not sent
again. The image keeps its ID: a later pull gives the same image.`,
		Example: `  nook push localhost:5000/app:1
  nook push busybox quay.io/me/busybox:latest`,
		Args:              cobra.RangeArgs(1, 2),
		ValidArgsFunction: completeImages,
		RunE: func(cmd *cobra.Command, args []string) error {
			dest := ""
			if len(args) == 2 {
				dest = args[1]
			}
			s, err := openStore(cmd)
			if err != nil {
				return err
			}
			prog, done := newProgress(cmd.ErrOrStderr(), quiet, "Pushing", "Pushed")
			opts, err := f.options(prog)
			if err != nil {
				done()
				return err
			}
			d, err := s.Push(cmd.Context(), args[0], dest, opts...)
			done()
			if err != nil {
				return registryError("push", args[0], err)
			}
			if digestFile != "" {
				if err := atomicfile.WriteFile(digestFile, []byte(d), atomicfile.Options{Perm: 0o644}); err != nil {
					return fmt.Errorf("write --digestfile: %w", err)
				}
			}
			if !quiet {
				fmt.Fprintf(cmd.ErrOrStderr(), "Pushed: %s\n", d)
			}
			return nil
		},
	}
	f.add(c, false)
	c.Flags().BoolVarP(&quiet, "quiet", "q", false, "Print no progress")
	c.Flags().StringVar(&digestFile, "digestfile", "", "Write the digest of the pushed manifest to this file")
	return c
}

package nook

import (
	"fmt"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/nookrun/nook/internal/cli/buildinfo"
)

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Show the nook version",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			fmt.Fprintf(c.OutOrStdout(), "nook version %s\nGo version %s, %s/%s\n",
				buildinfo.Version(), buildinfo.GoVersion(), runtime.GOOS, runtime.GOARCH)
			return nil
		},
	}
}

package nook

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/nookrun/nook/layer"
)

func newLayerCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "layer",
		Short: "Work with layer tars and their indexes (developer tools)",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return c.Help()
		},
	}
	c.AddCommand(newLayerIndexCmd())
	return c
}

func newLayerIndexCmd() *cobra.Command {
	var quiet bool
	c := &cobra.Command{
		Use:   "index FILE DIR",
		Short: "Index a layer tar (plain, gzip or zstd) into DIR/<diffid>.tar and .idx",
		Long: `Index reads a layer tar (plain, gzip or zstd; "-" is standard input) in one
pass and writes DIR/<diffid>.tar, the uncompressed layer, and DIR/<diffid>.idx,
its index. The .tar can then be a lower layer of nook-overlayfs:

  nook-overlayfs -o lowerdir=DIR/<diffid>.tar,upperdir=U,workdir=W MOUNTPOINT`,
		Args: cobra.ExactArgs(2),
		RunE: func(c *cobra.Command, args []string) error {
			return indexLayer(c, args[0], args[1], quiet)
		},
	}
	c.Flags().BoolVarP(&quiet, "quiet", "q", false, "print only the path of the indexed .tar")
	return c
}

func indexLayer(c *cobra.Command, file, dir string, quiet bool) error {
	var in io.Reader = c.InOrStdin()
	if file != "-" {
		f, err := os.Open(file)
		if err != nil {
			return fmt.Errorf("index layer %s: %w", file, err)
		}
		defer f.Close()
		in = f
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("index layer %s: %w", file, err)
	}
	info, err := layer.Create(c.Context(), in, dir)
	if err != nil {
		return fmt.Errorf("index layer %s: %w", file, err)
	}
	tarPath := filepath.Join(dir, strings.TrimPrefix(info.DiffID, "sha256:")+".tar")
	if quiet {
		fmt.Fprintln(c.OutOrStdout(), tarPath)
		return nil
	}
	fmt.Fprintf(c.OutOrStdout(), "%s\t%s\t%d entries, %d dropped\n", info.DiffID, tarPath, info.Entries, info.Dropped)
	return nil
}

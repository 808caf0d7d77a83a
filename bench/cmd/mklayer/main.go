// Command mklayer indexes a layer tar read from standard input into DIR
// with layer.Create, and prints the path of the indexed tar (DIR/<hex>.tar,
// with DIR/<hex>.idx beside it). The benchmarks build it to time indexing
// against tar -x and to make the tar lowers of nook-overlayfs.
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/nookrun/nook/layer"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: mklayer DIR < layer.tar")
		os.Exit(2)
	}
	if err := run(os.Args[1]); err != nil {
		fmt.Fprintf(os.Stderr, "mklayer: %v\n", err)
		os.Exit(1)
	}
}

func run(dir string) error {
	info, err := layer.Create(context.Background(), os.Stdin, dir)
	if err != nil {
		return fmt.Errorf("index layer from stdin into %s: %w", dir, err)
	}
	tars, err := filepath.Glob(filepath.Join(dir, "*.tar"))
	if err != nil || len(tars) != 1 {
		return fmt.Errorf("find the indexed tar in %s: want one *.tar, found %v (%v)", dir, tars, err)
	}
	fmt.Fprintf(os.Stderr, "mklayer: %+v\n", info)
	fmt.Println(tars[0])
	return nil
}

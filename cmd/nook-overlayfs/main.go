// Command nook-overlayfs mounts nook's union filesystem alone, with
// fuse-overlayfs's command line. Its code is in internal/cli/overlayfs, so
// that the testscripts can run it as a command of the test binary.
package main

import (
	"os"

	"github.com/nookrun/nook/internal/cli/overlayfs"
)

func main() { os.Exit(overlayfs.Main()) }

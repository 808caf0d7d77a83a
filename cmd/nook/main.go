// Command nook runs OCI containers as an ordinary user. Its code is in
// internal/cli/nook, so that the testscripts can run it as a command of the
// test binary; hidden roles of re-executed processes are dispatched there
// too, before any CLI parsing.
package main

import (
	"os"

	"github.com/nookrun/nook/internal/cli/nook"
)

func main() { os.Exit(nook.Main()) }

package network

import (
	"fmt"
	"io"
	"os"

	"github.com/rootless-containers/rootlesskit/v2/pkg/port/builtin/child"
	opaquekeys "github.com/rootless-containers/rootlesskit/v2/pkg/port/builtin/opaque"

	"github.com/nookrun/nook/internal/pdeath"
)

// PortHelperMain is the port helper (RolePortHelper): the child half of
// rootlesskit's builtin port driver, in a container's network namespace.
// args are the driver's socket and ready pipe and the monitor's pid. It
// runs until its standard input, a pipe from the monitor, closes.
func PortHelperMain(args []string) int {
	if len(args) != 3 {
		fmt.Fprintf(os.Stderr, "nook: internal role %s: unexpected arguments %q\n", RolePortHelper, args)
		return 125
	}
	if err := pdeath.Rearm(args[2]); err != nil {
		fmt.Fprintf(os.Stderr, "nook: port helper: %v\n", err)
		return 125
	}
	quit := make(chan struct{})
	go func() {
		io.Copy(io.Discard, os.Stdin)
		close(quit)
	}()
	d := child.NewDriver(os.Stderr)
	opaque := map[string]string{opaquekeys.SocketPath: args[0], opaquekeys.ChildReadyPipePath: args[1]}
	if err := d.RunChildDriver(opaque, quit, ""); err != nil {
		fmt.Fprintf(os.Stderr, "nook: port helper: %v\n", err)
		return 125
	}
	return 0
}

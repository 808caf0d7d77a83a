package usertest

import (
	"os"

	"github.com/nookrun/nook/internal/cli/nook"
	"github.com/nookrun/nook/run"
)

// nook exec's process inside the container is nook's RoleExec, which
// nsenter executes from a descriptor: its argv[0] is "/proc/self/fd/3",
// not the name of a command, so TestMain (which picks the command by
// argv[0]) would run the test suite in the container instead. nook's own
// main picks the role by argv[1], before anything else; so does this, as
// early as a test binary can.
func init() {
	if len(os.Args) > 1 && os.Args[1] == run.RoleExec {
		os.Exit(nook.Main())
	}
}

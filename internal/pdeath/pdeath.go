// Package pdeath re-arms the parent-death signal of a helper that nook
// started through another program (nsenter): entering a user namespace
// changes the process's credentials, which clears the signal its parent
// set when it started it.
package pdeath

import (
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// Rearm sets SIGKILL as this process's parent-death signal again and
// checks that its parent is still parent, the pid in decimal: had the
// parent died before, the signal would never come.
func Rearm(parent string) error {
	want, err := strconv.Atoi(parent)
	if err != nil {
		return fmt.Errorf("parent pid %q: %w", parent, err)
	}
	if err := unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(unix.SIGKILL), 0, 0, 0); err != nil {
		return fmt.Errorf("set parent-death signal: %w", err)
	}
	if os.Getppid() != want {
		return fmt.Errorf("the parent, nook (pid %d), has gone", want)
	}
	return nil
}

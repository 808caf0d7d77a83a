package bench

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// lifecycleCmdTimeout bounds each command BenchmarkLifecycle runs: a
// runtime that hangs is killed and reported, instead of holding the
// benchmark until go test's own timeout.
const lifecycleCmdTimeout = 2 * time.Minute

// runBounded runs req through the host runner; if it has not ended after
// lifecycleCmdTimeout, it SIGKILLs the command and fails.
func runBounded(host *hostClient, req hostRequest) (hostResult, error) {
	type outcome struct {
		res hostResult
		err error
	}
	ended := make(chan outcome, 1)
	go func() {
		res, err := host.do(req)
		ended <- outcome{res, err}
	}()
	select {
	case o := <-ended:
		return o.res, o.err
	case <-time.After(lifecycleCmdTimeout):
	}
	pid, err := hostChild(req.Args)
	if err == nil {
		err = unix.Kill(pid, unix.SIGKILL)
	}
	o := <-ended
	return o.res, fmt.Errorf("%s did not end within %s; killed it: %w",
		strings.Join(req.Args, " "), lifecycleCmdTimeout, errors.Join(err, o.err))
}

package usertest

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

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

// cmdWaitFD waits until a process of the script whose command line
// matches REGEX has a descriptor open on a path matching PATH_REGEX, and
// prints "PID COMMAND" for it:
//
//	waitfd REGEX PATH_REGEX
//
// It tells that a command has got as far as opening that file (the
// container's lock it is about to wait on, the log it follows): past its
// start, where a signal would meet the runtime's defaults rather than
// the command's own handling.
func cmdWaitFD(ts *testscript.TestScript, neg bool, args []string) {
	const usage = "waitfd REGEX PATH_REGEX"
	if neg || len(args) != 2 {
		ts.Fatalf("usage: %s", usage)
	}
	re := compileArg(ts, usage, args[:1])
	pathRe := compileArg(ts, usage, args[1:])
	deadline := time.Now().Add(waitLimit)
	for {
		ps, err := matching(ts.Getenv("WORK"), re)
		ts.Check(err)
		for _, p := range ps {
			if hasOpen(p.pid, pathRe) {
				fmt.Fprintf(ts.Stdout(), "%d %s\n", p.pid, p.cmd)
				return
			}
		}
		if time.Now().After(deadline) {
			ts.Fatalf("no process of this script matching %q had a file matching %q open within %v (processes: %q)", re, pathRe, waitLimit, ps)
		}
		time.Sleep(pollInterval)
	}
}

// hasOpen reports whether process pid has a descriptor open on a path
// matching re. A process that is gone, or a descriptor closed meanwhile,
// has nothing open.
func hasOpen(pid int, re *regexp.Regexp) bool {
	dir := filepath.Join("/proc", strconv.Itoa(pid), "fd")
	ents, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	for _, e := range ents {
		target, err := os.Readlink(filepath.Join(dir, e.Name()))
		if err == nil && re.MatchString(target) {
			return true
		}
	}
	return false
}

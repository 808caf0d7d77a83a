package usertest

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
	"golang.org/x/sys/unix"
)

// waitLimit bounds every wait of a script for a process: a limit on a
// hang, never a sleep that stands in for synchronisation.
const waitLimit = 30 * time.Second

// pollInterval is how often a wait for a process to appear looks again:
// nothing announces a new process, so that wait polls /proc.
const pollInterval = 5 * time.Millisecond

// matching lists the script's processes whose command line (see proc.cmd)
// matches re.
func matching(work string, re *regexp.Regexp) ([]proc, error) {
	ps, err := scriptProcs(work)
	if err != nil {
		return nil, err
	}
	var out []proc
	for _, p := range ps {
		if re.MatchString(p.cmd) {
			out = append(out, p)
		}
	}
	return out, nil
}

func compileArg(ts *testscript.TestScript, usage string, args []string) *regexp.Regexp {
	if len(args) != 1 {
		ts.Fatalf("usage: %s", usage)
	}
	re, err := regexp.Compile(args[0])
	if err != nil {
		ts.Fatalf("%s: %v", usage, err)
	}
	return re
}

// cmdWaitProc waits until a process of the script runs a command line
// matching REGEX, and prints "PID COMMAND" for each that does.
func cmdWaitProc(ts *testscript.TestScript, neg bool, args []string) {
	const usage = "waitproc REGEX"
	if neg {
		ts.Fatalf("unsupported: ! waitproc (use waitgone)")
	}
	re := compileArg(ts, usage, args)
	deadline := time.Now().Add(waitLimit)
	for {
		ps, err := matching(ts.Getenv("WORK"), re)
		ts.Check(err)
		if len(ps) > 0 {
			for _, p := range ps {
				fmt.Fprintf(ts.Stdout(), "%d %s\n", p.pid, p.cmd)
			}
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("no process of this script matched %q within %v", re, waitLimit)
		}
		time.Sleep(pollInterval)
	}
}

// cmdWaitGone waits until no process of the script runs a command line
// matching REGEX. A pidfd becomes readable when its process exits.
func cmdWaitGone(ts *testscript.TestScript, neg bool, args []string) {
	const usage = "waitgone REGEX"
	if neg {
		ts.Fatalf("unsupported: ! waitgone")
	}
	re := compileArg(ts, usage, args)
	deadline := time.Now().Add(waitLimit)
	for {
		ps, err := matching(ts.Getenv("WORK"), re)
		ts.Check(err)
		if len(ps) == 0 {
			return
		}
		left := time.Until(deadline)
		if left <= 0 {
			all, _ := scriptProcs(ts.Getenv("WORK"))
			var details []string
			for _, p := range all {
				details = append(details, p.detail())
			}
			ts.Fatalf("still running after %v: %q; the script's processes: %q", waitLimit, ps, details)
		}
		if err := waitAnyExit(ps, left); err != nil {
			ts.Fatalf("wait for %q: %v", ps, err)
		}
	}
}

// waitAnyExit waits until one of ps exits, or for at most limit.
func waitAnyExit(ps []proc, limit time.Duration) error {
	var fds []unix.PollFd
	defer func() {
		for _, f := range fds {
			unix.Close(int(f.Fd))
		}
	}()
	for _, p := range ps {
		fd, err := unix.PidfdOpen(p.pid, 0)
		if err != nil {
			return nil // exited meanwhile
		}
		fds = append(fds, unix.PollFd{Fd: int32(fd), Events: unix.POLLIN})
	}
	_, err := unix.Poll(fds, int(limit.Milliseconds())+1)
	if err == unix.EINTR {
		return nil
	}
	return err
}

// cmdSignal sends SIG (TERM, INT, HUP, QUIT, USR1, USR2, KILL...) to every
// process of the script whose command line matches REGEX; at least one
// must.
func cmdSignal(ts *testscript.TestScript, neg bool, args []string) {
	const usage = "signal SIG REGEX"
	if neg || len(args) != 2 {
		ts.Fatalf("usage: %s", usage)
	}
	sig := unix.SignalNum("SIG" + strings.TrimPrefix(args[0], "SIG"))
	if sig == 0 {
		ts.Fatalf("signal: unknown signal %q", args[0])
	}
	re := compileArg(ts, usage, args[1:])
	ps, err := matching(ts.Getenv("WORK"), re)
	ts.Check(err)
	if len(ps) == 0 {
		ts.Fatalf("signal: no process of this script matches %q", re)
	}
	for _, p := range ps {
		if err := unix.Kill(p.pid, sig); err != nil {
			ts.Fatalf("signal %s to %v: %v", args[0], p, err)
		}
	}
}

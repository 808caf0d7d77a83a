package run

import (
	"fmt"
	"io"
	"os"
	"runtime"

	"golang.org/x/sys/unix"

	"github.com/nookrun/nook/run/ctrcopy"
)

// RoleExec is the hidden role nsenter executes inside a running
// container for nook exec (execin.go): descriptor 3 is nook's binary it
// was executed from, 4 the socket to the monitor.
const RoleExec = "__exec"

// ExecMain is RoleExec. It reads the process's spec from the monitor and
// becomes the process as execWorkload makes the workload: tty, user,
// capabilities, no_new_privs, seccomp, rlimits.
func ExecMain(args []string) int {
	if len(args) != 0 {
		fmt.Fprintf(os.Stderr, "nook: internal role %s: unexpected arguments %q\n", RoleExec, args)
		return exitNookError
	}
	// Credentials, the bounding set and no_new_privs are per thread.
	runtime.LockOSThread()
	unix.Close(execExeFD)
	unix.CloseOnExec(execSocketFD)
	ch := channel{f: os.NewFile(execSocketFD, "socket")}
	m, _, err := ch.expect(msgSpec)
	if err != nil {
		fmt.Fprintf(os.Stderr, "nook: exec: %v\n", err)
		return exitNookError
	}
	spec := m.Spec
	if spec == nil {
		return childFail(ch, fmt.Errorf("exec: spec message without a spec"))
	}
	if spec.JoinCgroupNS {
		joinCgroupNS()
	}
	if spec.Copy != nil {
		// The socket's end tells the monitor the copy runs.
		ch.f.Close()
		return copyInside(spec.Copy)
	}
	if spec.Process.Tty {
		// nsenter's child leads no session; a terminal needs one.
		if _, err := unix.Setsid(); err != nil {
			return childFail(ch, fmt.Errorf("exec: start a session for the terminal: %w", err))
		}
	}
	code, err := execWorkload(ch, spec)
	ch.send(message{Type: msgExecError, Error: err.Error(), Code: code}, -1)
	return code
}

// copyInside is nook cp's container side, in the container's root as its
// root user: Pack to stdout or Unpack from stdin.
func copyInside(c *CopyRequest) int {
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		fmt.Fprintf(os.Stderr, "nook: cp: set no_new_privs: %v\n", err)
		return 1
	}
	var err error
	if c.Out {
		_, err = ctrcopy.Pack(os.Stdout, c.Path, c.Pack)
	} else {
		err = ctrcopy.Unpack(os.Stdin, c.Path, c.Unpack)
		// The other side may pad past the archive's end.
		io.Copy(io.Discard, os.Stdin)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "nook: cp: %v\n", err)
		return 1
	}
	return 0
}

// joinCgroupNS enters the workload's cgroup namespace on this thread,
// whose namespaces the exec'd process keeps. The process is in the
// container's cgroup already (cloned into it), so where the namespace
// cannot be entered — keep-id without subordinate ids, whose RoleExec
// runs as the user, unprivileged — it only sees its cgroup's full path.
func joinCgroupNS() {
	defer unix.Close(execCgroupNSFD)
	if err := unix.Setns(execCgroupNSFD, unix.CLONE_NEWCGROUP); err != nil && err != unix.EPERM {
		fmt.Fprintf(os.Stderr, "nook: exec: enter the container's cgroup namespace: %v\n", err)
	}
}

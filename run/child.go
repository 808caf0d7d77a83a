package run

import (
	"fmt"
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

// Hidden roles of the nook binary, picked by os.Args[1] before any CLI
// parsing (cmd/nook dispatches them).
const (
	// RoleChild is the container's first process.
	RoleChild = "__child"
)

// childFD is the socket's descriptor number in the child (ExtraFiles[0]).
const childFD = 3

// stage2 is the argument that marks the child's re-execution with
// capabilities; the bound on re-executions is that only stage 1 re-execs.
const stage2 = "2"

// The child execs itself, and at the end the workload, from the main
// thread. An exec from another thread kills the thread-group leader first
// and takes its pid only after it is gone: for that moment /proc/PID/ns/*
// of the child cannot be opened, and a network driver's nsenter started
// right after the maps are written (attachNetwork) fails on it. Locking
// in init is what makes main run on the main thread.
func init() {
	if len(os.Args) > 1 && os.Args[1] == RoleChild {
		runtime.LockOSThread()
	}
}

// ChildMain is the container's first process. Started by the monitor in
// new namespaces without capabilities (stage 1), it waits for its id maps,
// re-executes itself to gain capabilities in the new user namespace
// (stage 2), builds the container and execs the workload. It returns only
// on failure, after telling the monitor what went wrong.
func ChildMain(args []string) int {
	ch := channel{f: os.NewFile(childFD, "socket")}
	if len(args) == 0 {
		return childStage1(ch)
	}
	if args[0] != stage2 {
		fmt.Fprintf(os.Stderr, "nook: internal role %s: unexpected arguments %q\n", RoleChild, args)
		return 125
	}
	// The socket came as an inherited descriptor; the workload must not
	// keep it: its closing on exec tells the monitor the workload runs.
	unix.CloseOnExec(childFD)
	// Credentials, the bounding set, no_new_privs and the parent-death
	// signal are per thread: all of the set-up and the final exec happen
	// on this one.
	runtime.LockOSThread()
	// Exec in the new user namespace changed our credentials, which
	// clears the parent-death signal: arm it again.
	if err := armParentDeath(ch); err != nil {
		return childFail(ch, err)
	}
	return childStage2(ch)
}

// childStage1 waits for the maps and re-executes. Without a mapping the
// exec would leave us without capabilities; after it, our uid is mapped
// to root of the namespace and exec gives us the full set.
func childStage1(ch channel) int {
	if _, _, err := ch.expect(msgMapped); err != nil {
		fmt.Fprintf(os.Stderr, "nook: container start: %v\n", err)
		return 125
	}
	argv := []string{os.Args[0], RoleChild, stage2}
	err := unix.Exec("/proc/self/exe", argv, os.Environ())
	return childFail(ch, fmt.Errorf("re-execute in the new user namespace: %w", err))
}

func childStage2(ch channel) int {
	m, _, err := ch.expect(msgSpec)
	if err != nil {
		fmt.Fprintf(os.Stderr, "nook: container start: %v\n", err)
		return 125
	}
	spec := m.Spec
	if spec == nil {
		return childFail(ch, fmt.Errorf("spec message without a spec"))
	}
	if err := buildContainer(ch, spec); err != nil {
		return childFail(ch, err)
	}
	if spec.Copy != nil {
		// nook cp of a stopped container: the copy is the workload.
		ch.f.Close()
		return copyInside(spec.Copy)
	}
	// execWorkload returns only when the workload could not start.
	code, err := execWorkload(ch, spec)
	ch.send(message{Type: msgExecError, Error: err.Error(), Code: code}, -1)
	return code
}

// armParentDeath sets this thread's parent-death signal, which every
// change of credentials clears (the re-exec, the switch to the workload's
// user), and checks that the monitor did not die before: its end of the
// socket would then be closed.
func armParentDeath(ch channel) error {
	if err := unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(unix.SIGKILL), 0, 0, 0); err != nil {
		return fmt.Errorf("set parent-death signal: %w", err)
	}
	fds := []unix.PollFd{{Fd: int32(ch.f.Fd()), Events: unix.POLLRDHUP}}
	if n, err := unix.Poll(fds, 0); err == nil && n > 0 && fds[0].Revents&(unix.POLLRDHUP|unix.POLLHUP) != 0 {
		return fmt.Errorf("nook, the container's monitor, has gone")
	}
	return nil
}

// childFail reports err to the monitor, which prints it.
func childFail(ch channel, err error) int {
	if sendErr := ch.send(message{Type: msgError, Error: err.Error()}, -1); sendErr != nil {
		fmt.Fprintf(os.Stderr, "nook: %v\n", err)
	}
	return 125
}

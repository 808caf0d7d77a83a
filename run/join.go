package run

import (
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/nookrun/nook/internal/pdeath"
)

// RoleJoin is the hidden role that starts a container's first process in
// another container's user and network namespaces (--network
// container:NAME). nsenter puts it there: a Go process cannot setns into
// a user namespace, being multi-threaded from its start. As root of that
// user namespace it then clones the child into mount, PID, UTS and IPC
// namespaces of its own, which setns cannot give.
const RoleJoin = "__join"

// JoinMain is RoleJoin: args are the monitor's pid and the clone flags.
// The monitor's socket is descriptor 3, passed on to the child. JoinMain
// forwards the monitor's signals to the child and exits as the child did.
func JoinMain(args []string) int {
	if len(args) != 2 {
		fmt.Fprintf(os.Stderr, "nook: internal role %s: unexpected arguments %q\n", RoleJoin, args)
		return exitNookError
	}
	if err := pdeath.Rearm(args[0]); err != nil {
		fmt.Fprintf(os.Stderr, "nook: join: %v\n", err)
		return exitNookError
	}
	flags, err := strconv.ParseUint(args[1], 10, 64)
	if err != nil {
		fmt.Fprintf(os.Stderr, "nook: join: clone flags %q: %v\n", args[1], err)
		return exitNookError
	}
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, forwarded...)
	cmd := &exec.Cmd{
		Path:       "/proc/self/exe",
		Args:       []string{os.Args[0], RoleChild, stage2},
		Env:        []string{},
		Stdin:      os.Stdin,
		Stdout:     os.Stdout,
		Stderr:     os.Stderr,
		ExtraFiles: []*os.File{os.NewFile(childFD, "socket")},
		SysProcAttr: &syscall.SysProcAttr{
			Cloneflags: uintptr(flags),
			Pdeathsig:  unix.SIGKILL,
		},
	}
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "nook: start the container's first process in the other container's namespaces: %v\n", err)
		return exitNookError
	}
	done := make(chan struct{})
	go func() {
		for {
			select {
			case s := <-sigs:
				cmd.Process.Signal(s)
			case <-done:
				return
			}
		}
	}()
	err = cmd.Wait()
	close(done)
	if ee, ok := err.(*exec.ExitError); ok {
		return exitStatus(unix.WaitStatus(ee.Sys().(syscall.WaitStatus)))
	}
	if err != nil {
		return exitNookError
	}
	return 0
}

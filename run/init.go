package run

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/sys/unix"
)

// InitMain is nook's init (--init), the container's PID 1: it starts the
// workload, forwards every signal it gets to it, reaps every zombie that
// is re-parented to it and exits with the workload's status. args are
// "--", the resolved executable, then the workload's argv.
func InitMain(args []string) int {
	if len(args) < 3 || args[0] != "--" {
		fmt.Fprintf(os.Stderr, "nook: internal role %s: unexpected arguments %q\n", RoleInit, args)
		return exitNookError
	}
	exe, argv := args[1], args[2:]
	sigs := make(chan os.Signal, 32)
	signal.Notify(sigs)
	attr := &os.ProcAttr{Files: []*os.File{os.Stdin, os.Stdout, os.Stderr}}
	if _, err := unix.IoctlGetTermios(0, unix.TCGETS); err == nil {
		// Put the workload in the terminal's foreground, so that what
		// the terminal sends (Ctrl-C) reaches it and not us.
		attr.Sys = &syscall.SysProcAttr{Setpgid: true, Foreground: true, Ctty: 0}
	}
	proc, err := os.StartProcess(exe, argv, attr)
	if err != nil {
		code, err := execFailure(argv[0], err)
		fmt.Fprintf(os.Stderr, "nook: %v\n", err)
		return code
	}
	for sig := range sigs {
		s, ok := sig.(syscall.Signal)
		if !ok {
			continue
		}
		switch s {
		case unix.SIGCHLD:
			if code, done := reap(proc.Pid); done {
				return code
			}
		case unix.SIGURG, unix.SIGTTIN, unix.SIGTTOU, unix.SIGPIPE:
			// SIGURG is the Go runtime's own; the others concern init.
		default:
			unix.Kill(proc.Pid, s)
		}
	}
	return exitNookError
}

// reap collects every exited child; done is true once the workload, pid,
// was among them, with code its exit status as a shell reports it.
func reap(pid int) (code int, done bool) {
	for {
		var ws unix.WaitStatus
		got, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil || got <= 0 {
			return 0, false
		}
		if got == pid {
			return exitStatus(ws), true
		}
	}
}

// exitStatus is a wait status as a shell reports it: the exit code, or
// 128+N after signal N.
func exitStatus(ws unix.WaitStatus) int {
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}

package run

import (
	"errors"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/nookrun/nook/userns"
)

// runInit is --init (and keep-id): this process stays the container's
// PID 1, starts the workload as its child, forwards every signal it gets
// to it, reaps every zombie re-parented to it and exits with the
// workload's status. The workload inherits this thread's limited bounding
// set, no_new_privs and seccomp filter, and gets its user's ids at exec;
// with nested set it runs in a user namespace of its own below the
// container's, where it keeps the host user's uid (keep-id).
func runInit(ch channel, exe string, argv, env []string, cwd string, id identity, tty bool, nested *nestedMaps) (int, error) {
	sigs := make(chan os.Signal, 32)
	signal.Notify(sigs)
	groups := make([]uint32, len(id.Groups))
	copy(groups, id.Groups)
	sys := &syscall.SysProcAttr{
		Credential: &syscall.Credential{Uid: id.UID, Gid: id.GID, Groups: groups},
	}
	if nested != nil {
		sys.Cloneflags = unix.CLONE_NEWUSER
		if nested.CgroupNS {
			sys.Cloneflags |= unix.CLONE_NEWCGROUP
		}
		sys.UidMappings = procIDMaps(nested.UIDs)
		sys.GidMappings = procIDMaps(nested.GIDs)
		sys.GidMappingsEnableSetgroups = !nested.DenySetgroups
		sys.Credential.NoSetGroups = nested.DenySetgroups
	}
	if tty {
		// The workload leads the terminal's foreground group, so that
		// what the terminal sends (Ctrl-C) reaches it, not us.
		sys.Setpgid, sys.Foreground, sys.Ctty = true, true, 0
	}
	proc, err := os.StartProcess(exe, argv, &os.ProcAttr{
		Dir:   cwd,
		Env:   env,
		Files: []*os.File{os.Stdin, os.Stdout, os.Stderr},
		Sys:   sys,
	})
	if err != nil {
		return execFailure(argv[0], err)
	}
	// The workload runs: tell the monitor, as an exec would have by
	// closing the socket.
	ch.f.Close()
	for sig := range sigs {
		s, ok := sig.(syscall.Signal)
		if !ok {
			continue
		}
		switch s {
		case unix.SIGCHLD:
			if code, done := reap(proc.Pid); done {
				os.Exit(code)
			}
		case unix.SIGURG, unix.SIGTTIN, unix.SIGTTOU, unix.SIGPIPE:
			// SIGURG is the Go runtime's own; the others concern init.
		default:
			unix.Kill(proc.Pid, s)
		}
	}
	return exitNookError, errors.New("init: signal channel closed")
}

func procIDMaps(ms []userns.Mapping) []syscall.SysProcIDMap {
	out := make([]syscall.SysProcIDMap, len(ms))
	for i, m := range ms {
		out[i] = syscall.SysProcIDMap{ContainerID: int(m.ContainerID), HostID: int(m.HostID), Size: int(m.Size)}
	}
	return out
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

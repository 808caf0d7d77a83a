package userns

import (
	"fmt"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// InstallSingleIDFilter sets no_new_privs and installs SingleIDFilter on
// every thread of the process (SECCOMP_FILTER_FLAG_TSYNC: a Go process has
// several, and the exec that follows may happen on any of them). It is
// meant for the container's last process right before it execs the
// workload; the filter is inherited across exec and by every child.
func InstallSingleIDFilter() error {
	prog, err := SingleIDFilter()
	if err != nil {
		return err
	}
	return install(prog)
}

// install sets no_new_privs and installs prog on every thread.
func install(prog []unix.SockFilter) error {
	// no_new_privs is per thread until TSYNC copies it to the others, so
	// both calls must happen on one thread.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("%w: set no_new_privs: %w", ErrFilterInstall, err)
	}
	fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	r, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER,
		unix.SECCOMP_FILTER_FLAG_TSYNC, uintptr(unsafe.Pointer(&fprog)))
	runtime.KeepAlive(prog)
	if errno != 0 {
		return fmt.Errorf("%w: seccomp(SET_MODE_FILTER, TSYNC): %w (is the kernel built with CONFIG_SECCOMP_FILTER?)", ErrFilterInstall, errno)
	}
	if r != 0 {
		// TSYNC returns the id of a thread it could not synchronise
		// (one with a filter of its own that is not an ancestor).
		return fmt.Errorf("%w: thread %d has a different seccomp filter", ErrFilterInstall, r)
	}
	return nil
}

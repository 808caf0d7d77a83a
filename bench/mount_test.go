package bench

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// mounted is one live union with a fresh upper.
type mounted struct {
	dir   string // the mount point
	base  string // holds upper/, work/ and the mount point
	pid   int    // the FUSE server; 0 for kernel overlayfs
	pidfd int    // pidfd of pid, to wait for its exit; -1 without one
	done  bool   // closed already
}

// mountPeer mounts p over a new, empty upper directory in e's scratch.
func mountPeer(e *env, p peer) (*mounted, error) {
	base, err := os.MkdirTemp(e.scratch, p.name+"-")
	if err != nil {
		return nil, fmt.Errorf("make mount directory: %w", err)
	}
	m := &mounted{dir: filepath.Join(base, "mnt"), base: base, pidfd: -1}
	for _, d := range []string{"upper", "work", "mnt"} {
		if err := os.Mkdir(filepath.Join(base, d), 0o755); err != nil {
			return nil, err
		}
	}
	m.pid, err = p.mount(p.lowers, filepath.Join(base, "upper"), filepath.Join(base, "work"), m.dir)
	if err != nil {
		_ = os.RemoveAll(base)
		return nil, fmt.Errorf("mount %s: %w", p.name, err)
	}
	if m.pid != 0 {
		if m.pidfd, err = unix.PidfdOpen(m.pid, 0); err != nil {
			_ = m.close()
			return nil, fmt.Errorf("pidfd_open %d: %w", m.pid, err)
		}
	}
	return m, nil
}

// unmountWait bounds how long a FUSE server may take to exit after its
// unmount; past it the server is killed and the run fails.
const unmountWait = 60_000 // ms

// close unmounts, waits for the FUSE server to exit (so the next mount does
// not race its cleanup) and removes the upper. Closing twice does nothing.
func (m *mounted) close() error {
	if m.done {
		return nil
	}
	m.done = true
	var errs []error
	if err := unix.Unmount(m.dir, 0); err != nil {
		errs = append(errs, fmt.Errorf("unmount %s: %w", m.dir, err))
		// Lazy detach so that the server sees the end of its mount.
		_ = unix.Unmount(m.dir, unix.MNT_DETACH)
	}
	if m.pidfd >= 0 {
		if err := waitExit(m.pidfd, unmountWait); err != nil {
			_ = unix.PidfdSendSignal(m.pidfd, unix.SIGKILL, nil, 0)
			errs = append(errs, fmt.Errorf("FUSE server %d after unmount: %w", m.pid, err))
		}
		unix.Close(m.pidfd)
	}
	if err := os.RemoveAll(m.base); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// waitExit waits for the process behind pidfd to exit: a pidfd becomes
// readable then.
func waitExit(pidfd, timeoutMs int) error {
	fds := []unix.PollFd{{Fd: int32(pidfd), Events: unix.POLLIN}}
	for {
		n, err := unix.Poll(fds, timeoutMs)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return fmt.Errorf("poll pidfd: %w", err)
		}
		if n == 0 {
			return fmt.Errorf("still running %d ms after unmount", timeoutMs)
		}
		return nil
	}
}

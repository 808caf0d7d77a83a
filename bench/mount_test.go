package bench

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// mounted is one live union with a fresh upper.
type mounted struct {
	dir    string    // the mount point
	base   string    // holds upper/, work/ and the mount point
	server *exec.Cmd // the FUSE server; nil for kernel overlayfs
	pid    int       // the server's pid; 0 without one
	done   bool      // closed already
	// setAside: close moves base into removed instead of removing it
	// (see removedDir).
	setAside bool
	removed  string
}

// removedDir is where the directories of mounts that created thousands of
// files go when closed, in the scratch directory that the next run clears.
// On an ext4 without a journal (as on the VMs these benchmarks ran on) an
// inode freed in the last minutes is skipped, one by one, when a new inode
// is allocated in its block group (fs/ext4/ialloc.c, recently_deleted), and
// ext4 places a new directory in the group with the fewest directories,
// often the group of the upper just removed. Removing each upper after its
// workload made the next peer's untar scan past the previous peer's 3,000
// freed inodes for every file it created: 2 to 3 times slower, in 2 of 5
// runs. Uppers of few but large files are removed at once: keeping their
// gigabytes until the end made later workloads slower.
func removedDir(e *env) string { return filepath.Join(e.scratch, "removed") }

// mountPeer mounts p over a new, empty upper directory in e's scratch.
func mountPeer(e *env, p peer) (*mounted, error) {
	base, err := os.MkdirTemp(e.scratch, p.name+"-")
	if err != nil {
		return nil, fmt.Errorf("make mount directory: %w", err)
	}
	m := &mounted{dir: filepath.Join(base, "mnt"), base: base, removed: removedDir(e)}
	for _, d := range []string{"upper", "work", "mnt"} {
		if err := os.Mkdir(filepath.Join(base, d), 0o755); err != nil {
			return nil, err
		}
	}
	m.server, err = p.mount(p.lowers, filepath.Join(base, "upper"), filepath.Join(base, "work"), m.dir)
	if err != nil {
		// base, with the server's log, stays for a post-mortem until the
		// next run clears the scratch directory.
		return nil, fmt.Errorf("mount %s (log kept in %s): %w", p.name, base, err)
	}
	if m.server != nil {
		m.pid = m.server.Process.Pid
	}
	return m, nil
}

// close unmounts, waits for the FUSE server to exit (so the next mount does
// not race its cleanup) and removes the mount's directory, or moves it
// aside (setAside). Closing twice does nothing.
func (m *mounted) close() error {
	if m.done {
		return nil
	}
	m.done = true
	var errs []error
	if err := unix.Unmount(m.dir, 0); err != nil {
		errs = append(errs, fmt.Errorf("unmount %s: %w", m.dir, err))
		// Detach anyway, so that the server sees the end of its mount.
		_ = unix.Unmount(m.dir, unix.MNT_DETACH)
	}
	if m.server != nil {
		if err := waitExit(m.server); err != nil {
			errs = append(errs, err)
		}
	}
	if m.setAside {
		if err := os.Rename(m.base, filepath.Join(m.removed, filepath.Base(m.base))); err != nil {
			errs = append(errs, err)
		}
	} else if err := os.RemoveAll(m.base); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// waitExit waits, for at most mountWait, for an unmounted FUSE server to
// exit; one that does not is killed and reported.
func waitExit(cmd *exec.Cmd) error {
	pidfd, err := unix.PidfdOpen(cmd.Process.Pid, 0)
	if err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return fmt.Errorf("pidfd_open %d: %w", cmd.Process.Pid, err)
	}
	defer unix.Close(pidfd)
	fds := []unix.PollFd{{Fd: int32(pidfd), Events: unix.POLLIN}}
	for {
		n, err := unix.Poll(fds, mountWait)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil || n == 0 {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			return fmt.Errorf("%s still running %d ms after its unmount (killed): %v", cmd.Path, mountWait, err)
		}
		// A server killed by a signal, or exiting non-zero after a clean
		// unmount, says something went wrong.
		if err := cmd.Wait(); err != nil {
			return fmt.Errorf("%s after unmount: %w", cmd.Path, err)
		}
		return nil
	}
}

// settle writes back everything dirty on the scratch filesystem; called
// just before the timer starts, so writeback that an earlier iteration or
// benchmark deferred (tar -x, files left in uppers, removals) is not paid
// for by the one being timed.
func settle(e *env) error {
	f, err := os.Open(e.scratch)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := unix.Syncfs(int(f.Fd())); err != nil {
		return fmt.Errorf("syncfs %s: %w", e.scratch, err)
	}
	return nil
}

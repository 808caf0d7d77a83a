package cgroupdeleg

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// emptyTimeout bounds the wait for a killed cgroup's processes to go.
const emptyTimeout = 10 * time.Second

// Kill kills every process in the cgroup (cgroup.kill; on kernels before
// 5.14, each process cgroup.procs lists, until none is left).
func (c *Cgroup) Kill() error {
	err := writeFile(filepath.Join(c.dir, "cgroup.kill"), "1")
	if err == nil || errors.Is(err, unix.ENOENT) && !exists(c.dir) {
		return nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("kill the processes of %s: %w", c.dir, err)
	}
	// Without cgroup.kill, a process can fork between the listing and
	// its kill: a few rounds of kill-all and wait get them all.
	for round := 0; round < 10; round++ {
		pids, err := readPids(c.dir)
		if err != nil || len(pids) == 0 {
			return err
		}
		for _, p := range pids {
			var pid int
			if _, err := fmt.Sscan(p, &pid); err == nil {
				unix.Kill(pid, unix.SIGKILL)
			}
		}
		if waitEmpty(c.dir, time.Second) == nil {
			return nil
		}
	}
	return fmt.Errorf("kill the processes of %s: they keep forking", c.dir)
}

// Remove kills what is left in the cgroup, waits until it is empty and
// removes it. A cgroup already gone is no error.
func (c *Cgroup) Remove() error {
	c.Close()
	if !exists(c.dir) {
		return nil
	}
	if err := c.Kill(); err != nil {
		return err
	}
	if err := waitEmpty(c.dir, emptyTimeout); err != nil {
		return err
	}
	if err := unix.Rmdir(c.dir); err != nil && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("remove cgroup %s: %w", c.dir, err)
	}
	return nil
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// waitEmpty waits until cgroup.events says the cgroup in dir has no
// process left ("populated 0"); the kernel signals each change of that
// file to inotify.
func waitEmpty(dir string, timeout time.Duration) error {
	events := filepath.Join(dir, "cgroup.events")
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return fmt.Errorf("watch %s: %w", events, err)
	}
	defer unix.Close(fd)
	if _, err := unix.InotifyAddWatch(fd, events, unix.IN_MODIFY); err != nil {
		if errors.Is(err, unix.ENOENT) {
			return nil // removed meanwhile
		}
		return fmt.Errorf("watch %s: %w", events, err)
	}
	deadline := time.Now().Add(timeout)
	buf := make([]byte, 4096)
	for {
		populated, err := readPopulated(events)
		if err != nil || !populated {
			return err
		}
		left := time.Until(deadline)
		if left <= 0 {
			pids, _ := readPids(dir)
			return fmt.Errorf("wait for cgroup %s to empty: processes %s are still there after %v", dir, strings.Join(pids, " "), timeout)
		}
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		if _, err := unix.Poll(fds, int(left.Milliseconds())+1); err != nil && !errors.Is(err, unix.EINTR) {
			return fmt.Errorf("watch %s: %w", events, err)
		}
		for {
			if _, err := unix.Read(fd, buf); err != nil {
				break
			}
		}
	}
}

// readPopulated reads cgroup.events' "populated" key.
func readPopulated(events string) (bool, error) {
	b, err := os.ReadFile(events)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read %s: %w", events, err)
	}
	v, ok := keyValue(b, "populated")
	if !ok {
		return false, fmt.Errorf("read %s: no populated key", events)
	}
	return v != 0, nil
}

// RemoveStale removes the cgroup of a container whose monitor died: it
// kills what is left there and removes the directory. It refuses a
// directory that is not a cgroup nook made for a container (ErrNotNook).
func RemoveStale(dir string) error {
	if dir == "" {
		return nil
	}
	name := filepath.Base(dir)
	id, ok := strings.CutPrefix(name, cgroupPrefix)
	if !ok || len(id) != 64 || strings.Trim(id, "0123456789abcdef") != "" {
		return fmt.Errorf("remove cgroup %s: %w", dir, ErrNotNook)
	}
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		if errors.Is(err, unix.ENOENT) {
			return nil
		}
		return fmt.Errorf("remove cgroup %s: %w", dir, err)
	}
	if st.Type != unix.CGROUP2_SUPER_MAGIC {
		return fmt.Errorf("remove cgroup %s: %w (not on a cgroup2 filesystem)", dir, ErrNotNook)
	}
	return Open(dir).Remove()
}

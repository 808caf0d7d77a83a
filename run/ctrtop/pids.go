package ctrtop

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"

	"golang.org/x/sys/unix"
)

// procRoot is where the host's processes are read; the caller's own /proc,
// so pids are as the caller (nook, on the host) sees them.
const procRoot = "/proc"

// maxNSDepth bounds the walk up the PID namespace tree: the kernel allows
// 32 levels.
const maxNSDepth = 33

// Pids returns the host pids of every process of the container whose first
// process has host pid pid, in ascending order: the processes in pid's PID
// namespace and in any namespace nested below it. Processes that exit
// during the scan are left out.
func Pids(pid int) ([]int, error) {
	return scanPids(pid, nil)
}

// scanPids is Pids with a hook run after /proc has been listed and before
// any process is looked at, so tests can make a process exit in between.
func scanPids(pid int, afterList func()) ([]int, error) {
	s, err := newScanner(pid)
	if err != nil {
		return nil, err
	}
	var pids []int
	err = s.each(afterList, func(p, _ int) error {
		pids = append(pids, p)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return pids, nil
}

// nsID identifies a namespace by the device and inode of its nsfs file.
type nsID struct{ dev, ino uint64 }

// scanner decides which processes belong to one container. It remembers
// its verdict per namespace, so each namespace is walked up at most once.
type scanner struct {
	verdict map[nsID]bool
}

func newScanner(pid int) (*scanner, error) {
	if pid <= 0 {
		return nil, fmt.Errorf("list processes of container pid %d: %w", pid, ErrNoProcess)
	}
	target, err := statNS(unix.AT_FDCWD, fmt.Sprintf("%s/%d/ns/pid", procRoot, pid))
	if vanished(err) {
		return nil, fmt.Errorf("list processes of container pid %d: %w", pid, ErrNoProcess)
	}
	if err != nil {
		return nil, fmt.Errorf("read PID namespace of process %d: %w", pid, err)
	}
	self, err := statNS(unix.AT_FDCWD, procRoot+"/self/ns/pid")
	if err != nil {
		return nil, fmt.Errorf("read nook's own PID namespace: %w", err)
	}
	if self == target {
		return nil, fmt.Errorf("list processes of container pid %d: %w", pid, ErrSharedPIDNamespace)
	}
	// The caller's namespace is an ancestor of every namespace it can see,
	// so a walk that reaches it has left the container.
	return &scanner{verdict: map[nsID]bool{target: true, self: false}}, nil
}

// each calls fn for every process of the container, in ascending pid
// order, with a directory fd of its /proc entry. The fd was opened before
// the namespace check and refers to that process only: once it has exited,
// reads through the fd fail with ENOENT or ESRCH even if its pid is reused,
// so a row never mixes two processes. fn's ENOENT and ESRCH errors mean the process exited: it is
// skipped.
func (s *scanner) each(afterList func(), fn func(pid, dir int) error) error {
	d, err := os.Open(procRoot)
	if err != nil {
		return fmt.Errorf("list processes: %w", err)
	}
	names, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		return fmt.Errorf("list processes: %w", err)
	}
	pids := make([]int, 0, len(names))
	for _, name := range names {
		if p, err := strconv.Atoi(name); err == nil && p > 0 {
			pids = append(pids, p)
		}
	}
	sort.Ints(pids)
	if afterList != nil {
		afterList()
	}
	for _, p := range pids {
		if err := s.visit(p, fn); err != nil {
			return err
		}
	}
	return nil
}

func (s *scanner) visit(pid int, fn func(pid, dir int) error) error {
	dir, err := unix.Open(fmt.Sprintf("%s/%d", procRoot, pid), unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if vanished(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("open %s/%d: %w", procRoot, pid, err)
	}
	defer unix.Close(dir)
	in, err := s.member(dir)
	if vanished(err) || denied(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read PID namespace of process %d: %w", pid, err)
	}
	if !in {
		return nil
	}
	if err := fn(pid, dir); err != nil && !vanished(err) {
		return err
	}
	return nil
}

// member reports whether the process of the /proc directory fd dir is in
// the container's PID namespace or one nested below it.
func (s *scanner) member(dir int) (bool, error) {
	id, err := statNS(dir, "ns/pid")
	if err != nil {
		return false, err
	}
	if v, ok := s.verdict[id]; ok {
		return v, nil
	}
	fd, err := unix.Openat(dir, "ns/pid", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return false, err
	}
	return s.walkUp(fd, id)
}

// walkUp follows the parents of the namespace open as fd (whose id is id)
// until it meets one with a verdict, and gives that verdict to every
// namespace on the way. It closes fd.
func (s *scanner) walkUp(fd int, id nsID) (bool, error) {
	seen := []nsID{id}
	verdict := false
	for depth := 0; ; depth++ {
		if depth == maxNSDepth {
			unix.Close(fd)
			return false, fmt.Errorf("find parent PID namespace: nested deeper than %d levels", maxNSDepth)
		}
		parent, err := unix.IoctlRetInt(fd, unix.NS_GET_PARENT)
		unix.Close(fd)
		if errors.Is(err, unix.EPERM) {
			// The parent is outside the caller's view: above the caller's
			// own namespace, so not below the container's.
			break
		}
		if err != nil {
			return false, fmt.Errorf("find parent PID namespace: %w", err)
		}
		var st unix.Stat_t
		if err := unix.Fstat(parent, &st); err != nil {
			unix.Close(parent)
			return false, fmt.Errorf("stat parent PID namespace: %w", err)
		}
		up := nsID{uint64(st.Dev), uint64(st.Ino)}
		if v, ok := s.verdict[up]; ok {
			unix.Close(parent)
			verdict = v
			break
		}
		seen = append(seen, up)
		fd = parent
	}
	for _, n := range seen {
		s.verdict[n] = verdict
	}
	return verdict, nil
}

// statNS identifies the namespace that the magic link path (relative to
// the directory fd dir) points to.
func statNS(dir int, path string) (nsID, error) {
	var st unix.Stat_t
	if err := unix.Fstatat(dir, path, &st, 0); err != nil {
		return nsID{}, err
	}
	return nsID{uint64(st.Dev), uint64(st.Ino)}, nil
}

// vanished reports whether err means the process exited.
func vanished(err error) bool {
	return errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ESRCH)
}

// denied reports whether err means the process is not the caller's to
// inspect (another user's), and so not in the caller's container.
func denied(err error) bool {
	return errors.Is(err, unix.EACCES) || errors.Is(err, unix.EPERM)
}

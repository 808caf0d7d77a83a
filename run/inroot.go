package run

import (
	"errors"
	"fmt"
	"path"
	"strings"

	"golang.org/x/sys/unix"
)

// The container's paths are resolved inside its root with openat2's
// RESOLVE_IN_ROOT, never as host paths: before pivot_root an absolute
// symlink in the image ("/etc/x -> /home") would otherwise lead a mount
// onto the host's tree. Mounts then target /proc/self/fd/N.

const inRoot = unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS

// openInRoot opens p (absolute, container-side) under root as O_PATH.
func openInRoot(root int, p string, flags int) (int, error) {
	rel := strings.TrimPrefix(path.Clean("/"+p), "/")
	if rel == "" {
		rel = "."
	}
	for {
		fd, err := unix.Openat2(root, rel, &unix.OpenHow{Flags: uint64(flags | unix.O_CLOEXEC), Resolve: inRoot})
		if errors.Is(err, unix.EINTR) || errors.Is(err, unix.EAGAIN) {
			continue
		}
		return fd, err
	}
}

// ensureInRoot opens p under root as an O_PATH descriptor, creating the
// missing directories on the way and, when file is true, p itself as an
// empty file; the caller closes the descriptor.
func ensureInRoot(root int, p string, file bool) (int, error) {
	fd, err := openInRoot(root, p, unix.O_PATH)
	if err == nil {
		return fd, nil
	}
	if !errors.Is(err, unix.ENOENT) {
		return -1, fmt.Errorf("open %s in the container: %w", p, err)
	}
	clean := path.Clean("/" + p)
	parent, base := path.Split(clean)
	if base == "" {
		return -1, fmt.Errorf("open %s in the container: %w", p, err)
	}
	pfd, err := ensureInRoot(root, parent, false)
	if err != nil {
		return -1, err
	}
	defer unix.Close(pfd)
	// mkdirat and openat need a real directory descriptor, not O_PATH.
	dfd, err := unix.Openat(pfd, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("open %s in the container: %w", parent, err)
	}
	defer unix.Close(dfd)
	if file {
		f, err := unix.Openat(dfd, base, unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o644)
		if err != nil && !errors.Is(err, unix.EEXIST) {
			return -1, fmt.Errorf("create %s in the container: %w", clean, err)
		}
		if err == nil {
			unix.Close(f)
		}
	} else if err := unix.Mkdirat(dfd, base, 0o755); err != nil && !errors.Is(err, unix.EEXIST) {
		return -1, fmt.Errorf("create directory %s in the container: %w", clean, err)
	}
	fd, err = openInRoot(root, clean, unix.O_PATH)
	if err != nil {
		return -1, fmt.Errorf("open %s in the container: %w", clean, err)
	}
	return fd, nil
}

// fdPath names an open descriptor as a mount source or target.
func fdPath(fd int) string { return fmt.Sprintf("/proc/self/fd/%d", fd) }

package fuseunion

import (
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// isPrivateXattr reports xattrs that belong to the layer format, never shown
// in the union nor settable through it, as overlayfs hides its own.
func isPrivateXattr(name string) bool {
	return strings.HasPrefix(name, "trusted.overlay.") || strings.HasPrefix(name, "user.overlay.") ||
		strings.HasPrefix(name, "user.nook.")
}

// isUnservedXattr reports the SELinux label, which the union does not
// carry: reading, setting or removing it answers EOPNOTSUPP, as on a
// filesystem mounted without security labels, and listings leave it out.
// A host that enforces SELinux labels a FUSE mount itself (genfscon) and
// never asks the server, so a label from a layer could never take effect;
// but coreutils' ls -l asks for it for every file it lists, and the kernel
// caches no xattr of a FUSE file, so answering it cost a round trip per
// file, while EOPNOTSUPP makes ls stop asking for the whole mount.
func isUnservedXattr(name string) bool { return name == "security.selinux" }

// procPath names an entry by a directory fd and a name, so path-only
// system calls (l*xattr) work at any depth and on symlinks.
func procPath(dirfd int, name string) string {
	return "/proc/self/fd/" + strconv.Itoa(dirfd) + "/" + name
}

// fdPath names an open fd's file through /proc, for system calls that take
// no fd (and for O_PATH fds, which most fd calls refuse).
func fdPath(fd int) string { return "/proc/self/fd/" + strconv.Itoa(fd) }

func llistxattrAt(dirfd int, name string) ([]string, error) {
	p := procPath(dirfd, name)
	for {
		n, err := unix.Llistxattr(p, nil)
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return nil, nil
		}
		buf := make([]byte, n)
		n, err = unix.Llistxattr(p, buf)
		if err == unix.ERANGE {
			continue
		}
		if err != nil {
			return nil, err
		}
		var names []string
		for _, s := range strings.Split(string(buf[:n]), "\x00") {
			if s != "" {
				names = append(names, s)
			}
		}
		return names, nil
	}
}

func lgetxattrAt(dirfd int, name, attr string) ([]byte, error) {
	p := procPath(dirfd, name)
	for {
		n, err := unix.Lgetxattr(p, attr, nil)
		if err != nil {
			return nil, err
		}
		buf := make([]byte, n)
		n, err = unix.Lgetxattr(p, attr, buf)
		if err == unix.ERANGE {
			continue
		}
		if err != nil {
			return nil, err
		}
		return buf[:n], nil
	}
}

func readlinkat(dirfd int, name string) (string, error) {
	for size := 256; ; size *= 2 {
		buf := make([]byte, size)
		n, err := unix.Readlinkat(dirfd, name, buf)
		if err != nil {
			return "", err
		}
		if n < size {
			return string(buf[:n]), nil
		}
	}
}

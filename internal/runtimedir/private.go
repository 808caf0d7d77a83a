package runtimedir

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// Private makes parent/name a directory of uid's with mode 0700, or checks
// that the one already there is such a directory, and returns its path. It
// never follows a symlink at parent/name and never changes a directory it
// did not make: a directory that is not private is refused with an error
// wrapping ErrUnsafe that says what is wrong and how to fix it.
//
// It is for directories in places every user can write (/tmp, /var/tmp),
// where another user may have made the name first.
func Private(parent, name string, uid int) (string, error) {
	fd, path, err := openPrivate(parent, name, uid)
	if err != nil {
		return "", err
	}
	unix.Close(fd)
	return path, nil
}

// openPrivate is Private that returns the directory open, so that the
// caller can work in the very directory that was checked (with *at calls)
// however the path changes afterwards.
func openPrivate(parent, name string, uid int) (dirfd int, path string, err error) {
	path = filepath.Join(parent, name)
	if err := checkParent(parent); err != nil {
		return -1, "", err
	}
	fd, created, err := mkdirOpen(path)
	if err != nil {
		return -1, "", err
	}
	if err := checkPrivate(fd, path, uid, created); err != nil {
		unix.Close(fd)
		return -1, "", err
	}
	return fd, path, nil
}

// checkPrivate refuses the open directory fd at path unless uid owns it
// with mode 0700; one it has just created gets mode 0700 whatever the
// umask took away.
func checkPrivate(fd int, path string, uid int, created bool) error {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return fmt.Errorf("stat %s: %w", path, err)
	}
	if int(st.Uid) != uid {
		return &UnsafeError{Path: path,
			Problem: fmt.Sprintf("is owned by uid %d, not by you (uid %d): another user may have made it to take over your containers", st.Uid, uid),
			Fix:     "ask an admin to remove it, or set XDG_RUNTIME_DIR to a private directory of yours"}
	}
	if perm := st.Mode & 0o7777; perm != 0o700 {
		if !created {
			return &UnsafeError{Path: path,
				Problem: fmt.Sprintf("has mode %04o, not 0700", perm),
				Fix:     fmt.Sprintf("make it private with 'chmod 0700 %s' (or remove it if you did not make it)", path)}
		}
		// Our own new directory: the umask took bits away.
		if err := unix.Fchmod(fd, 0o700); err != nil {
			return fmt.Errorf("chmod 0700 %s: %w", path, err)
		}
	}
	return nil
}

// mkdirOpen makes path (mode 0700) unless it exists and opens it without
// following a symlink. It reports whether it made the directory.
func mkdirOpen(path string) (fd int, created bool, err error) {
	// Another nook process's Cleanup may remove the directory, found or
	// made empty, before it is opened: make it again.
	for range maxSubAttempts {
		created = true
		if err := unix.Mkdir(path, 0o700); err != nil {
			if !errors.Is(err, unix.EEXIST) {
				return -1, false, fmt.Errorf("make %s: %w", path, err)
			}
			created = false
		}
		// O_NOFOLLOW refuses a symlink planted at path, O_DIRECTORY
		// anything else that is not a directory; what fstat then says
		// about the opened directory cannot be swapped under us.
		fd, err = unix.Open(path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		switch {
		case err == nil:
			return fd, created, nil
		case errors.Is(err, unix.ENOENT):
			continue
		case errors.Is(err, unix.ELOOP) || errors.Is(err, unix.ENOTDIR):
			return -1, false, notADir(path)
		}
		return -1, false, fmt.Errorf("open %s: %w", path, err)
	}
	return -1, false, fmt.Errorf("open %s: %w", path, err)
}

// notADir describes what sits at path instead of a directory.
func notADir(path string) error {
	what := "is not a directory"
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		target, _ := os.Readlink(path)
		what = fmt.Sprintf("is a symlink (to %s), not a directory: another user may have planted it to take over your containers", target)
	}
	return &UnsafeError{Path: path, Problem: what,
		Fix: fmt.Sprintf("remove it ('rm %s', or ask an admin if it is not yours) or set XDG_RUNTIME_DIR to a private directory of yours", path)}
}

// checkParent refuses a parent that others can write without the sticky
// bit: there anyone could rename a private directory away and put their
// own in its place.
func checkParent(parent string) error {
	fi, err := os.Stat(parent)
	if err != nil {
		return fmt.Errorf("stat %s: %w", parent, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a directory", parent)
	}
	if fi.Mode().Perm()&0o002 != 0 && fi.Mode()&fs.ModeSticky == 0 {
		return &UnsafeError{Path: parent,
			Problem: "can be written by anyone and has no sticky bit, so other users could replace nook's directory in it",
			Fix:     fmt.Sprintf("ask an admin to run 'chmod +t %s', or set XDG_RUNTIME_DIR to a private directory of yours", parent)}
	}
	return nil
}

// sessionProblem says why dir cannot hold uid's runtime directory, or ""
// when it can: it must be an absolute path to an existing directory owned by
// uid that neither group nor others can write (what XDG's base directory
// specification promises and what su and sudo break).
func sessionProblem(dir string, uid int) string {
	if !filepath.IsAbs(dir) {
		return "is not an absolute path"
	}
	var st unix.Stat_t
	if err := unix.Stat(dir, &st); err != nil {
		if errors.Is(err, unix.ENOENT) {
			return "does not exist"
		}
		return fmt.Sprintf("cannot be read (%v)", err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return "is not a directory"
	}
	if int(st.Uid) != uid {
		return fmt.Sprintf("is owned by uid %d, not uid %d", st.Uid, uid)
	}
	if st.Mode&0o022 != 0 {
		return fmt.Sprintf("can be written by group or others (mode %04o)", st.Mode&0o7777)
	}
	return ""
}

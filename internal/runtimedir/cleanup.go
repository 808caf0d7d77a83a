package runtimedir

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// Cleanup removes dir when it is the fallback runtime directory and holds
// nothing any more; nook calls it after the last container of a command has
// ended. A directory still in use by another nook process is not empty and
// stays. $XDG_RUNTIME_DIR, and anything that is not a fallback, is left to
// the session manager.
func Cleanup(dir string, opts ...Option) error {
	c := newConfig(opts)
	dir = filepath.Clean(dir)
	if c.xdg != "" && dir == filepath.Clean(c.xdg) {
		return nil
	}
	if !isFallbackName(filepath.Base(dir)) {
		return nil
	}
	// rmdir removes only an empty directory, in one step: no other
	// process's container directory can be lost between a check and the
	// removal.
	err := unix.Rmdir(dir)
	if err == nil || errors.Is(err, unix.ENOTEMPTY) || errors.Is(err, unix.EEXIST) || errors.Is(err, unix.ENOENT) {
		return nil
	}
	return fmt.Errorf("remove runtime directory %s: %w", dir, err)
}

// maxSubAttempts bounds the retries of Sub and of making the fallback.
// Each retry follows a Cleanup by another nook process that found the
// fallback empty and removed it, so another process made progress; the
// bound is there so that no loop is endless, not because it is ever met.
const maxSubAttempts = 100

// Sub makes the directory name (one path element, mode 0700) in uid's
// runtime directory and returns its path. It fails with an error wrapping
// fs.ErrExist when the directory is there already.
//
// The entry is made with mkdirat in the runtime directory as it was
// opened and checked: if another nook process's Cleanup removed the empty
// fallback in between (and someone made a new one at its path, perhaps
// another user), mkdirat fails with ENOENT in the removed directory and
// Sub starts again, instead of making the entry in whatever is at the path
// now.
func Sub(uid int, name string, opts ...Option) (string, error) {
	if name == "" || name == "." || name == ".." || strings.ContainsRune(name, '/') {
		return "", fmt.Errorf("runtime directory entry %q is not a single file name", name)
	}
	c := newConfig(opts)
	var err error
	for range maxSubAttempts {
		info, fd, rerr := resolve(uid, c)
		if rerr != nil {
			return "", rerr
		}
		p := filepath.Join(info.Path, name)
		err = unix.Mkdirat(fd, name, 0o700)
		unix.Close(fd)
		if err == nil {
			return p, nil
		}
		err = fmt.Errorf("make %s: %w", p, err)
		if !errors.Is(err, unix.ENOENT) {
			return "", err
		}
	}
	return "", err
}

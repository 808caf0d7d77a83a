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

// maxSubAttempts bounds the retries of Sub and of making the fallback: each one follows a Cleanup by
// another process that found the fallback empty, which needs a container
// of that process to end exactly then.
const maxSubAttempts = 10

// Sub makes the directory name (one path element, mode 0700) in uid's
// runtime directory and returns its path. It fails with an error wrapping
// fs.ErrExist when the directory is there already.
//
// Between finding the fallback and making name in it, another nook process
// may Cleanup the fallback because it was empty then; Sub makes it again
// and retries.
func Sub(uid int, name string, opts ...Option) (string, error) {
	if name == "" || name == "." || name == ".." || strings.ContainsRune(name, '/') {
		return "", fmt.Errorf("runtime directory entry %q is not a single file name", name)
	}
	var err error
	for range maxSubAttempts {
		var dir string
		dir, err = Dir(uid, opts...)
		if err != nil {
			return "", err
		}
		p := filepath.Join(dir, name)
		err = unix.Mkdir(p, 0o700)
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

package ctrcopy

import (
	"errors"
	"fmt"
	"strings"

	"golang.org/x/sys/unix"
)

// tree opens directories below a root fd without following any symlink
// and without leaving the root: openat2 with RESOLVE_BENEATH and
// RESOLVE_NO_SYMLINKS where the kernel has it (5.6+; a seccomp filter may
// hide it), else one openat(O_NOFOLLOW|O_DIRECTORY) per component. Names
// given to it are clean and relative (cleanName), so ".." never occurs;
// RESOLVE_BENEATH is the second lock on that door.
type tree struct {
	root    int  // O_PATH fd of the extraction root
	openat2 bool // false once openat2 said ENOSYS (or EPERM from seccomp)
	// mkdirHook runs on each directory that open creates as a missing
	// parent (to chown it); nil does nothing.
	mkdirHook func(parent int, name string) error
}

const resolveFlags = unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS

// openComp opens one component below dir as an O_PATH directory fd. A
// symlink gives ELOOP (openat2) or ENOTDIR (O_NOFOLLOW|O_DIRECTORY on a
// link opens nothing).
func (t *tree) openComp(dir int, name string) (int, error) {
	if t.openat2 {
		fd, err := unix.Openat2(dir, name, &unix.OpenHow{
			Flags:   unix.O_PATH | unix.O_DIRECTORY | unix.O_CLOEXEC,
			Resolve: resolveFlags,
		})
		if !errors.Is(err, unix.ENOSYS) && !errors.Is(err, unix.EPERM) {
			return fd, err
		}
		t.openat2 = false
	}
	return unix.Openat(dir, name, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
}

// open returns an O_PATH fd of the directory rel ("." is the root). With
// create, missing directories are made (0755, as Docker makes an entry's
// missing parents). A symlink or a non-directory on the way is an error
// wrapping ErrUnsafeEntry.
func (t *tree) open(rel string, create bool) (int, error) {
	fd, err := unix.Dup(t.root)
	if err != nil {
		return -1, fmt.Errorf("dup root fd: %w", err)
	}
	if rel == "." {
		return fd, nil
	}
	done := ""
	for _, c := range strings.Split(rel, "/") {
		next, err := t.openComp(fd, c)
		if errors.Is(err, unix.ENOENT) && create {
			err = unix.Mkdirat(fd, c, 0o755)
			if err == nil && t.mkdirHook != nil {
				err = t.mkdirHook(fd, c)
			}
			if err == nil || errors.Is(err, unix.EEXIST) {
				next, err = t.openComp(fd, c)
			}
		}
		unix.Close(fd)
		done = joinRel(done, c)
		switch {
		case errors.Is(err, unix.ELOOP), errors.Is(err, unix.ENOTDIR), errors.Is(err, unix.EXDEV):
			return -1, fmt.Errorf("%w: %s is a symlink or not a directory, and is never followed", ErrUnsafeEntry, done)
		case err != nil:
			return -1, fmt.Errorf("open directory %s: %w", done, err)
		}
		fd = next
	}
	return fd, nil
}

func joinRel(a, b string) string {
	if a == "" {
		return b
	}
	return a + "/" + b
}

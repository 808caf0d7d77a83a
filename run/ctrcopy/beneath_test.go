package ctrcopy

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// TestTreeBothWays runs the directory walker with openat2 and with the
// per-component O_NOFOLLOW fallback (kernels before 5.6, or a seccomp
// filter hiding openat2): both refuse symlinks and non-directories, and
// both make missing directories.
func TestTreeBothWays(t *testing.T) {
	for _, withOpenat2 := range []bool{true, false} {
		root := t.TempDir()
		outside := t.TempDir()
		mkdir(t, root, "a/b")
		write(t, root, "file", "f", 0o644)
		symlink(t, outside, filepath.Join(root, "abs"))
		symlink(t, "a", filepath.Join(root, "rel"))
		fd, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		tr := tree{root: fd, openat2: withOpenat2}
		for rel, want := range map[string]error{
			".":         nil,
			"a/b":       nil,
			"abs":       ErrUnsafeEntry,
			"abs/x":     ErrUnsafeEntry,
			"rel/b":     ErrUnsafeEntry,
			"file":      ErrUnsafeEntry,
			"file/x":    ErrUnsafeEntry,
			"a/new/dir": nil,
		} {
			d, err := tr.open(rel, true)
			if !errors.Is(err, want) {
				t.Errorf("openat2 %v: open(%q) = %v, want %v", withOpenat2, rel, err, want)
			}
			if err == nil {
				unix.Close(d)
			}
		}
		if _, err := os.Stat(filepath.Join(root, "a/new/dir")); err != nil {
			t.Errorf("openat2 %v: missing directories not made: %v", withOpenat2, err)
		}
		if ents, _ := os.ReadDir(outside); len(ents) != 0 {
			t.Errorf("openat2 %v: something was made outside: %v", withOpenat2, ents)
		}
		if _, err := tr.open("a/missing", false); !errors.Is(err, unix.ENOENT) {
			t.Errorf("openat2 %v: open of a missing dir without create: %v", withOpenat2, err)
		}
		unix.Close(fd)
	}
}

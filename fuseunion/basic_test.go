package fuseunion

import (
	"os"
	"path/filepath"
	"reflect"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

func TestLookupAndReaddirMerge(t *testing.T) {
	lo := t.TempDir()
	hi := t.TempDir()
	writeTree(t, lo, map[string]string{"a": "lo-a", "b": "lo-b", "d/x": "lo-x", "d/y": "lo-y", "o/gone": "g", "w/": ""})
	writeTree(t, hi, map[string]string{"a": "hi-a", "d/z": "hi-z", ".wh.b": "", "d/.wh.y": "", "o/.wh..wh..opq": "", "o/new": "n"})
	tu := mountDirs(t, hi, lo)
	if got := readFile(t, tu.p("a")); got != "hi-a" {
		t.Errorf("a = %q, want the upper layer's", got)
	}
	if _, err := os.Lstat(tu.p("b")); !os.IsNotExist(err) {
		t.Errorf("whited-out b: %v", err)
	}
	if got, want := names(t, tu.p("d")), []string{"x", "z"}; !reflect.DeepEqual(got, want) {
		t.Errorf("d = %v, want %v", got, want)
	}
	if got, want := names(t, tu.p("o")), []string{"new"}; !reflect.DeepEqual(got, want) {
		t.Errorf("opaque o = %v, want %v", got, want)
	}
	if got, want := names(t, tu.mnt), []string{"a", "d", "o", "w"}; !reflect.DeepEqual(got, want) {
		t.Errorf("root = %v, want %v", got, want)
	}
}

func TestCopyUpOnWriteKeepsLower(t *testing.T) {
	lo := t.TempDir()
	writeTree(t, lo, map[string]string{"dir/f": "hello"})
	tu := mountDirs(t, lo)
	var before syscall.Stat_t
	if err := syscall.Stat(tu.p("dir/f"), &before); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(tu.p("dir/f"), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(" world"); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if got := readFile(t, tu.p("dir/f")); got != "hello world" {
		t.Errorf("union f = %q", got)
	}
	if got := readFile(t, filepath.Join(tu.upper, "dir/f")); got != "hello world" {
		t.Errorf("upper f = %q", got)
	}
	if got := readFile(t, filepath.Join(lo, "dir/f")); got != "hello" {
		t.Errorf("lower f changed: %q", got)
	}
	var after syscall.Stat_t
	if err := syscall.Stat(tu.p("dir/f"), &after); err != nil {
		t.Fatal(err)
	}
	if before.Ino != after.Ino {
		t.Errorf("st_ino changed across copy-up: %d → %d", before.Ino, after.Ino)
	}
}

func TestUnlinkLeavesWhiteoutAndMkdirOverItIsOpaque(t *testing.T) {
	lo := t.TempDir()
	writeTree(t, lo, map[string]string{"f": "x", "d/inner": "y"})
	tu := mountDirs(t, lo)
	if err := os.Remove(tu.p("f")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(tu.upper, ".wh.f")); err != nil {
		t.Errorf("no whiteout in upper: %v", err)
	}
	if _, err := os.Lstat(tu.p("f")); !os.IsNotExist(err) {
		t.Errorf("f still visible: %v", err)
	}
	if err := os.RemoveAll(tu.p("d")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(tu.p("d"), 0o755); err != nil {
		t.Fatal(err)
	}
	if got := names(t, tu.p("d")); len(got) != 0 {
		t.Errorf("new d over whiteout shows %v", got)
	}
	if got := names(t, tu.mnt); !reflect.DeepEqual(got, []string{"d"}) {
		t.Errorf("root = %v", got)
	}
}

func TestReservedNames(t *testing.T) {
	tu := mountDirs(t, t.TempDir())
	if err := os.WriteFile(tu.p(".wh.x"), nil, 0o644); !errorIs(err, syscall.EPERM) {
		t.Errorf("create .wh.x: %v, want EPERM", err)
	}
	if err := unix.Mknod(tu.p("c"), unix.S_IFCHR|0o600, 0); !errorIs(err, syscall.EPERM) {
		t.Errorf("mknod 0:0: %v, want EPERM", err)
	}
	long := string(make([]byte, 256))
	for i := range []byte(long) {
		long = long[:i] + "a" + long[i+1:]
	}
	if err := os.WriteFile(tu.p(long), nil, 0o644); !errorIs(err, syscall.ENAMETOOLONG) {
		t.Errorf("create 256-byte name: %v, want ENAMETOOLONG", err)
	}
}

func errorIs(err error, want syscall.Errno) bool {
	var e syscall.Errno
	for err != nil {
		if x, ok := err.(syscall.Errno); ok {
			e = x
			break
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			break
		}
		err = u.Unwrap()
	}
	return e == want
}

package hostcheck

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nookrun/nook/internal/nstest"
)

func TestDevFUSE(t *testing.T) {
	if f, err := os.OpenFile("/dev/fuse", os.O_RDWR, 0); err != nil {
		nstest.Skip(t, "cannot open /dev/fuse here: "+err.Error())
	} else {
		f.Close()
	}
	value, status, fix := devFUSE("/dev/fuse")
	if status != OK || value != "character device 10:229, opens read-write" || fix != "" {
		t.Errorf("devFUSE(/dev/fuse) = %q, %s, %q; want ok", value, status, fix)
	}
}

func TestDevFUSEProblems(t *testing.T) {
	file := filepath.Join(t.TempDir(), "fuse")
	if err := os.WriteFile(file, nil, 0o666); err != nil {
		t.Fatal(err)
	}
	cases := []struct{ path, value, fix string }{
		{filepath.Join(t.TempDir(), "missing"), "missing", "sudo modprobe fuse"},
		{file, "is not a character device", "mknod -m 0666"},
	}
	// /dev/mem is a character device only root may open: the case of a
	// /dev/fuse left 0600.
	if os.Geteuid() != 0 {
		if _, err := os.Stat("/dev/mem"); err == nil {
			cases = append(cases, struct{ path, value, fix string }{"/dev/mem", "cannot be opened read-write: permission denied", "sudo chmod 0666 /dev/mem"})
		}
	}
	for _, tc := range cases {
		value, status, fix := devFUSE(tc.path)
		if status != Problem || !strings.Contains(value, tc.value) || !strings.Contains(fix, tc.fix) {
			t.Errorf("devFUSE(%s) = %q, %s, %q; want a problem %q with fix %q", tc.path, value, status, fix, tc.value, tc.fix)
		}
	}
}

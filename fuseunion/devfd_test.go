package fuseunion

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/nookrun/nook/internal/nstest"
	"golang.org/x/sys/unix"
)

// TestServeMountedFD serves a union on a /dev/fuse descriptor that was
// opened and mounted by someone else, as nook's container child does.
func TestServeMountedFD(t *testing.T) {
	lo := t.TempDir()
	writeTree(t, lo, map[string]string{"hello": "from a passed fd"})
	nstest.RequireFUSE(t)
	fd, err := unix.Open("/dev/fuse", unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	mnt := filepath.Join(t.TempDir(), "m")
	os.Mkdir(mnt, 0o755)
	data := fmt.Sprintf("fd=%d,rootmode=40000,user_id=0,group_id=0,default_permissions,allow_other", fd)
	if err := unix.Mount("nook", mnt, "fuse.nook", unix.MS_NODEV, data); err != nil {
		unix.Close(fd)
		t.Fatalf("mount /dev/fuse by hand: %v", err)
	}
	l, err := OpenDirLower(lo)
	if err != nil {
		t.Fatal(err)
	}
	up, wk := t.TempDir(), t.TempDir()
	srv, err := Mount(fmt.Sprintf("/dev/fd/%d", fd), Config{Lowers: []Lower{l}, Upper: up, Work: wk})
	if err != nil {
		unix.Unmount(mnt, unix.MNT_DETACH)
		t.Fatalf("serve /dev/fd/%d: %v", fd, err)
	}
	if got := readFile(t, filepath.Join(mnt, "hello")); got != "from a passed fd" {
		t.Errorf("hello = %q", got)
	}
	// The server does not know the mount point; whoever mounted unmounts.
	if err := unix.Unmount(mnt, 0); err != nil {
		t.Errorf("unmount: %v", err)
	}
	if err := srv.Wait(); err != nil {
		t.Errorf("server after unmount: %v", err)
	}
}

package fuseunion

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nookrun/nook/internal/nstest"
	"golang.org/x/sys/unix"
)

// TestServeMountedFD serves a union on a /dev/fuse descriptor that was
// opened and mounted by another process, as nook's container child mounts
// and its monitor serves. The server is a process of its own, as the
// monitor is: a process serving FUSE must not also use the mount.
func TestServeMountedFD(t *testing.T) {
	nstest.RequireFUSE(t)
	lo := t.TempDir()
	writeTree(t, lo, map[string]string{"hello": "from a passed fd"})
	fd, err := unix.Open("/dev/fuse", unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	dev := os.NewFile(uintptr(fd), "/dev/fuse")
	defer dev.Close()
	mnt := filepath.Join(t.TempDir(), "m")
	os.Mkdir(mnt, 0o755)
	data := fmt.Sprintf("fd=%d,rootmode=40000,user_id=0,group_id=0,default_permissions,allow_other", fd)
	if err := unix.Mount("nook", mnt, "fuse.nook", unix.MS_NODEV, data); err != nil {
		t.Fatalf("mount /dev/fuse by hand: %v", err)
	}
	defer unix.Unmount(mnt, unix.MNT_DETACH)
	up, wk := t.TempDir(), t.TempDir()
	cmd := exec.Command("/proc/self/exe", "-test.run=^$")
	cmd.Args[0] = os.Args[0]
	cmd.Env = append(os.Environ(), serveEnv+"="+strings.Join([]string{"/dev/fd/3", up, wk, lo}, "\n"))
	cmd.ExtraFiles = []*os.File{dev}
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	dev.Close() // the server holds it now
	if line, err := bufio.NewReader(out).ReadString('\n'); err != nil || line != "mounted\n" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("server: %q %v", line, err)
	}
	if got := readFile(t, filepath.Join(mnt, "hello")); got != "from a passed fd" {
		t.Errorf("hello = %q", got)
	}
	// The server does not know the mount point; whoever mounted unmounts,
	// and the server then ends by itself.
	if err := unix.Unmount(mnt, 0); err != nil {
		t.Errorf("unmount: %v", err)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("server after unmount: %v", err)
	}
}

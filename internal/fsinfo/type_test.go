package fsinfo

import (
	"fmt"
	"testing"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/nookrun/nook/internal/nstest"
)

// topMountType returns the type of the topmost mount at point.
func topMountType(t *testing.T, point string) (string, bool) {
	t.Helper()
	ms, err := Mounts()
	if err != nil {
		t.Fatal(err)
	}
	for i := len(ms) - 1; i >= 0; i-- {
		if ms[i].Point == point {
			return ms[i].FSType, true
		}
	}
	return "", false
}

// TestRealMounts names the filesystems of this machine's own mounts and
// checks the names against the mount table.
func TestRealMounts(t *testing.T) {
	for _, point := range []string{"/", "/proc", "/sys", "/dev/shm", "/sys/fs/cgroup/unified"} {
		want, ok := topMountType(t, point)
		if !ok {
			t.Logf("%s: not a mount point here", point)
			continue
		}
		info, err := Type(point)
		if err != nil {
			t.Errorf("Type(%s): %v", point, err)
			continue
		}
		t.Logf("%s: %+v", point, info)
		if info.Name != want || info.MountType != want || info.Network {
			t.Errorf("Type(%s) = %+v, want the mount table's %q, not a network filesystem", point, info, want)
		}
	}
	root, err := Type("/")
	if err != nil {
		t.Fatal(err)
	}
	if root.Size == 0 || root.Avail > root.Size {
		t.Errorf("Type(/): size %d, avail %d: want a size and avail within it", root.Size, root.Avail)
	}
	if _, err := Type("/nonexistent/nook"); err == nil {
		t.Error("Type of a missing path did not fail")
	}
}

// mountFUSE mounts an empty go-fuse filesystem with the given subtype (its
// mount type is then "fuse.SUBTYPE") through fusermount3, as an
// unprivileged user can.
func mountFUSE(t *testing.T, subtype string) string {
	t.Helper()
	dir := t.TempDir()
	srv, err := fs.Mount(dir, &fs.Inode{}, &fs.Options{MountOptions: fuse.MountOptions{Name: subtype, FsName: "nook-fsinfo-test"}})
	if err != nil {
		nstest.Skip(t, fmt.Sprintf("mount a FUSE filesystem (needs /dev/fuse and fusermount3): %v", err))
	}
	t.Cleanup(func() {
		if err := srv.Unmount(); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

func TestFUSEMounts(t *testing.T) {
	for _, tc := range []struct {
		subtype string
		network bool
	}{
		{"nooktest", false},
		{"sshfs", true},
		{"s3fs", true},
	} {
		dir := mountFUSE(t, tc.subtype)
		info, err := Type(dir)
		if err != nil {
			t.Fatal(err)
		}
		if info.Name != "fuse" || info.Magic != 0x65735546 || info.MountType != "fuse."+tc.subtype || info.Network != tc.network {
			t.Errorf("Type of a fuse.%s mount = %+v, want fuse, network %v", tc.subtype, info, tc.network)
		}
	}
}

// TestClassify covers the filesystems this machine has no mount of.
func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		magic     uint32
		mountType string
		name      string
		network   bool
	}{
		{0xEF53, "ext4", "ext4", false},
		{0xEF53, "ext3", "ext3", false},
		{0xEF53, "", "ext2/ext3/ext4", false},
		{0x58465342, "xfs", "xfs", false},
		{0x9123683E, "", "btrfs", false},
		{0x01021994, "devtmpfs", "tmpfs", false},
		{0x794C7630, "overlay", "overlay", false},
		{0x2FC12FC1, "zfs", "zfs", false},
		{0x6969, "nfs4", "nfs", true},
		{0x0BD00BD0, "lustre", "lustre", true},
		{0x47504653, "gpfs", "gpfs", true},
		{0xFF534D42, "cifs", "cifs", true},
		{0xFE534D42, "smb3", "smb2", true},
		{0x00C36400, "ceph", "ceph", true},
		{0x19830326, "beegfs", "beegfs", true},
		{0x01021997, "9p", "9p", true},
		{0x65735546, "fuse.sshfs", "fuse", true},
		{0x65735546, "fuse.glusterfs", "fuse", true},
		{0x65735546, "fuse.fuse-overlayfs", "fuse", false},
		{0x65735546, "virtiofs", "fuse", false},
		{0x65735546, "", "fuse", false},
		{0x12345678, "", "unknown (0x12345678)", false},
		{0x12345678, "wekafs", "wekafs", false},
	} {
		name, network := classify(tc.magic, tc.mountType)
		if name != tc.name || network != tc.network {
			t.Errorf("classify(%#x, %q) = %q, %v; want %q, %v", tc.magic, tc.mountType, name, network, tc.name, tc.network)
		}
	}
}

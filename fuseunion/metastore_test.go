package fuseunion

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/nookrun/nook/internal/nstest"
	"golang.org/x/sys/unix"
)

// TestOwnershipJournalOnFilesystems checks that what the container sets
// and the host cannot hold survives a remount, with the upper on ext4 (the
// test's temp dir) and on tmpfs, and on a Volatile union, which flushes
// nothing to disk but still hands every record to the kernel.
func TestOwnershipJournalOnFilesystems(t *testing.T) {
	nstest.RequireFUSE(t)
	if !nstest.HasSubordinateIDs() {
		nstest.Skip(t, "chown to other ids needs a subordinate id range (/etc/subuid and newuidmap)")
	}
	for _, c := range []struct {
		fstype   string
		volatile bool
	}{{"ext4", false}, {"tmpfs", false}, {"ext4", true}} {
		fstype := c.fstype
		name := fstype
		if c.volatile {
			name += "-volatile"
		}
		t.Run(name, func(t *testing.T) {
			base := t.TempDir()
			switch fstype {
			case "tmpfs":
				if err := unix.Mount("tmpfs", base, "tmpfs", 0, "size=64m"); err != nil {
					t.Fatalf("mount tmpfs: %v", err)
				}
				defer unix.Unmount(base, unix.MNT_DETACH)
			case "ext4":
				var sfs unix.Statfs_t
				unix.Statfs(base, &sfs)
				if sfs.Type != unix.EXT4_SUPER_MAGIC {
					nstest.Skip(t, "the test's temp dir is not on ext4")
				}
			}
			up, wk, mnt := filepath.Join(base, "u"), filepath.Join(base, "w"), filepath.Join(base, "m")
			for _, d := range []string{up, wk, mnt} {
				os.Mkdir(d, 0o755)
			}
			mount := func() *Server {
				srv, err := Mount(mnt, Config{Upper: up, Work: wk, Volatile: c.volatile, Debug: os.Getenv("NOOK_FUSE_DEBUG") != ""})
				if err != nil {
					t.Fatal(err)
				}
				return srv
			}
			srv := mount()
			p := func(s string) string { return filepath.Join(mnt, s) }
			os.WriteFile(p("f"), []byte("x"), 0o644)
			os.Symlink("f", p("l"))
			os.Mkdir(p("d"), 0o755)
			must(t, os.Lchown(p("f"), 1001, 1002))
			must(t, os.Lchown(p("l"), 1003, 1004))
			must(t, os.Lchown(p("d"), 1005, 1006))
			must(t, syscall.Chmod(p("f"), 0o6700))
			must(t, syscall.Chmod(p("d"), 0o1777))
			must(t, unix.Lsetxattr(p("l"), "security.x", []byte("on a symlink"), 0))
			must(t, os.Link(p("f"), p("f2")))
			must(t, os.Rename(p("f2"), p("d/f3")))
			for _, name := range []string{"f", "d"} {
				f, err := os.Open(p(name))
				if err != nil {
					t.Fatal(err)
				}
				if err := f.Sync(); err != nil {
					t.Errorf("fsync %s: %v", name, err)
				}
				f.Close()
			}
			if err := srv.Unmount(); err != nil {
				t.Fatal(err)
			}
			srv = mount()
			defer srv.Unmount()
			check := func(name string, uid, gid, perm uint32) {
				t.Helper()
				var st unix.Stat_t
				if err := unix.Lstat(p(name), &st); err != nil {
					t.Fatal(err)
				}
				if st.Uid != uid || st.Gid != gid || st.Mode&0o7777 != perm {
					t.Errorf("%s after remount: %d:%d %o, want %d:%d %o", name, st.Uid, st.Gid, st.Mode&0o7777, uid, gid, perm)
				}
			}
			check("f", 1001, 1002, 0o6700)
			check("d/f3", 1001, 1002, 0o6700) // a hard link shares the record
			check("l", 1003, 1004, 0o777)
			check("d", 1005, 1006, 0o1777)
			buf := make([]byte, 32)
			if n, err := unix.Lgetxattr(p("l"), "security.x", buf); err != nil || string(buf[:n]) != "on a symlink" {
				t.Errorf("security.x on the symlink: %q %v", buf[:n], err)
			}
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

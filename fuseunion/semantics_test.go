package fuseunion

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/nookrun/nook/internal/nstest"
	"golang.org/x/sys/unix"
)

func TestHardlinkIdentityAfterCopyUp(t *testing.T) {
	lo := t.TempDir()
	writeTree(t, lo, map[string]string{"a/one": "data", "b/": ""})
	if err := os.Link(filepath.Join(lo, "a/one"), filepath.Join(lo, "b/two")); err != nil {
		t.Fatal(err)
	}
	tu := mountDirs(t, lo)
	if err := os.WriteFile(tu.p("a/one"), []byte("changed"), 0o644); err != nil {
		t.Fatal(err)
	}
	var s1, s2 syscall.Stat_t
	if err := syscall.Stat(tu.p("a/one"), &s1); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Stat(tu.p("b/two"), &s2); err != nil {
		t.Fatal(err)
	}
	if s1.Ino != s2.Ino || s1.Nlink != 2 || s2.Nlink != 2 {
		t.Errorf("after copy-up: ino %d/%d nlink %d/%d, want one inode with nlink 2", s1.Ino, s2.Ino, s1.Nlink, s2.Nlink)
	}
	if got := readFile(t, tu.p("b/two")); got != "changed" {
		t.Errorf("other name reads %q", got)
	}
}

func TestRenameLowerDirectory(t *testing.T) {
	lo := t.TempDir()
	writeTree(t, lo, map[string]string{"src/f": "1", "src/sub/g": "2", "dst/": ""})
	tu := mountDirs(t, lo)
	if err := os.Rename(tu.p("src"), tu.p("moved")); err != nil {
		t.Fatalf("rename lower dir: %v", err)
	}
	if got := readFile(t, tu.p("moved/sub/g")); got != "2" {
		t.Errorf("moved/sub/g = %q", got)
	}
	if _, err := os.Lstat(tu.p("src")); !os.IsNotExist(err) {
		t.Errorf("src still there: %v", err)
	}
	// Over an existing (empty, lower) directory.
	if err := syscall.Rename(tu.p("moved"), tu.p("dst")); err != nil {
		t.Fatalf("rename over empty lower dir: %v", err)
	}
	if got := names(t, tu.p("dst")); !reflect.DeepEqual(got, []string{"f", "sub"}) {
		t.Errorf("dst = %v", got)
	}
	if got := names(t, tu.mnt); !reflect.DeepEqual(got, []string{"dst"}) {
		t.Errorf("root = %v", got)
	}
}

func TestRenameFlags(t *testing.T) {
	lo := t.TempDir()
	writeTree(t, lo, map[string]string{"a": "A", "b": "B"})
	tu := mountDirs(t, lo)
	err := unix.Renameat2(unix.AT_FDCWD, tu.p("a"), unix.AT_FDCWD, tu.p("b"), unix.RENAME_NOREPLACE)
	if err != unix.EEXIST {
		t.Errorf("RENAME_NOREPLACE over lower file: %v, want EEXIST", err)
	}
	if err := unix.Renameat2(unix.AT_FDCWD, tu.p("a"), unix.AT_FDCWD, tu.p("b"), unix.RENAME_EXCHANGE); err != nil {
		t.Fatalf("RENAME_EXCHANGE: %v", err)
	}
	if readFile(t, tu.p("a")) != "B" || readFile(t, tu.p("b")) != "A" {
		t.Errorf("exchange: a=%q b=%q", readFile(t, tu.p("a")), readFile(t, tu.p("b")))
	}
	if err := os.Mkdir(tu.p("d"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Rename(tu.p("a"), tu.p("d")); err != syscall.EISDIR {
		t.Errorf("file over dir: %v, want EISDIR", err)
	}
	if err := syscall.Rename(tu.p("d"), tu.p("a")); err != syscall.ENOTDIR {
		t.Errorf("dir over file: %v, want ENOTDIR", err)
	}
}

func TestRmdirChecksEmptinessAcrossLayers(t *testing.T) {
	lo := t.TempDir()
	writeTree(t, lo, map[string]string{"d/f": "x"})
	tu := mountDirs(t, lo)
	if err := os.Remove(tu.p("d")); !errorIs(err, syscall.ENOTEMPTY) {
		t.Errorf("rmdir of a dir with lower content: %v, want ENOTEMPTY", err)
	}
	if err := os.Remove(tu.p("d/f")); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(tu.p("d")); err != nil {
		t.Errorf("rmdir of emptied merged dir: %v", err)
	}
	if _, err := os.Lstat(tu.p("d")); !os.IsNotExist(err) {
		t.Errorf("d still visible: %v", err)
	}
}

func TestOwnershipIsRecordedNotApplied(t *testing.T) {
	if !nstest.HasSubordinateIDs() {
		nstest.Skip(t, "chown to other ids needs a subordinate id range (/etc/subuid and newuidmap)")
	}
	lo := t.TempDir()
	writeTree(t, lo, map[string]string{"f": "x"})
	tu := mountDirs(t, lo)
	if err := os.Chown(tu.p("f"), 1234, 5678); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Chmod(tu.p("f"), 0o4751); err != nil {
		t.Fatal(err)
	}
	var st syscall.Stat_t
	if err := syscall.Stat(tu.p("f"), &st); err != nil {
		t.Fatal(err)
	}
	if st.Uid != 1234 || st.Gid != 5678 || st.Mode&0o7777 != 0o4751 {
		t.Errorf("union shows %d:%d %o, want 1234:5678 4751", st.Uid, st.Gid, st.Mode&0o7777)
	}
	var hst syscall.Stat_t
	if err := syscall.Stat(filepath.Join(tu.upper, "f"), &hst); err != nil {
		t.Fatal(err)
	}
	if hst.Uid != uint32(os.Getuid()) || hst.Mode&0o7000 != 0 {
		t.Errorf("host file is %d %o: the server must not chown or set special bits", hst.Uid, hst.Mode&0o7777)
	}
}

func TestFifosAndDeviceNodes(t *testing.T) {
	tu := mountDirs(t, t.TempDir())
	if err := unix.Mkfifo(tu.p("fifo"), 0o600); err != nil {
		t.Fatal(err)
	}
	var st unix.Stat_t
	if err := unix.Lstat(tu.p("fifo"), &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFIFO {
		t.Errorf("fifo: %v mode %o", err, st.Mode)
	}
	// Device nodes can only be made with CAP_MKNOD in the initial user
	// namespace (the VFS checks before FUSE sees the call); the union
	// stores them for such a caller, and presents the layers' devices
	// (see TestTarLowerServesLayer) to everyone.
	err := unix.Mknod(tu.p("null"), unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3)))
	if err == unix.EPERM {
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Lstat(tu.p("null"), &st); err != nil {
		t.Fatal(err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFCHR || st.Rdev != unix.Mkdev(1, 3) {
		t.Errorf("null: mode %o rdev %x", st.Mode, st.Rdev)
	}
}

func TestXattrs(t *testing.T) {
	lo := t.TempDir()
	writeTree(t, lo, map[string]string{"f": "x"})
	if err := unix.Setxattr(filepath.Join(lo, "f"), "user.lower", []byte("L"), 0); err != nil {
		nstest.Skip(t, "the test filesystem has no user xattrs: "+err.Error())
	}
	tu := mountDirs(t, lo)
	buf := make([]byte, 64)
	n, err := unix.Getxattr(tu.p("f"), "user.lower", buf)
	if err != nil || string(buf[:n]) != "L" {
		t.Fatalf("lower xattr: %q %v", buf[:n], err)
	}
	// vfs_cap_data revision 2, effective, cap_net_bind_service permitted.
	capv2 := []byte{1, 0, 0, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	if err := unix.Setxattr(tu.p("f"), "security.capability", capv2, 0); err != nil {
		t.Fatalf("set security.capability: %v", err)
	}
	n, err = unix.Getxattr(tu.p("f"), "security.capability", buf)
	if err != nil || n < 12 || !bytes.Equal(buf[4:8], capv2[4:8]) {
		t.Errorf("security.capability = %v %v", buf[:n], err)
	}
	n, err = unix.Listxattr(tu.p("f"), buf)
	if err != nil || !strings.Contains(string(buf[:n]), "user.lower") {
		t.Errorf("listxattr after copy-up = %q %v", buf[:n], err)
	}
	if err := unix.Removexattr(tu.p("f"), "user.lower"); err != nil {
		t.Fatal(err)
	}
	if _, err := unix.Getxattr(tu.p("f"), "user.lower", buf); err != unix.ENODATA {
		t.Errorf("removed xattr: %v, want ENODATA", err)
	}
}

func TestDeepTreeBeyondPathMax(t *testing.T) {
	tu := mountDirs(t, t.TempDir())
	comp := strings.Repeat("d", 200)
	depth := 30 // 30 × 201 bytes > PATH_MAX
	dir, err := os.Open(tu.mnt)
	if err != nil {
		t.Fatal(err)
	}
	fd := int(dir.Fd())
	for i := 0; i < depth; i++ {
		if err := unix.Mkdirat(fd, comp, 0o755); err != nil {
			t.Fatalf("mkdir at depth %d: %v", i, err)
		}
		nfd, err := unix.Openat(fd, comp, unix.O_RDONLY|unix.O_DIRECTORY, 0)
		if err != nil {
			t.Fatalf("open at depth %d: %v", i, err)
		}
		if i > 0 {
			unix.Close(fd)
		}
		fd = nfd
	}
	dir.Close()
	defer unix.Close(fd)
	f, err := unix.Openat(fd, "leaf", unix.O_CREAT|unix.O_WRONLY, 0o644)
	if err != nil {
		t.Fatalf("create leaf beyond PATH_MAX: %v", err)
	}
	unix.Write(f, []byte("deep"))
	unix.Close(f)
	if err := unix.Renameat(fd, "leaf", fd, "leaf2"); err != nil {
		t.Fatalf("rename beyond PATH_MAX: %v", err)
	}
	var st unix.Stat_t
	if err := unix.Fstatat(fd, "leaf2", &st, 0); err != nil || st.Size != 4 {
		t.Errorf("stat leaf2: %v size %d", err, st.Size)
	}
}

func TestUnlinkedOpenFileHasNoLinks(t *testing.T) {
	lo := t.TempDir()
	writeTree(t, lo, map[string]string{"lower": "x"})
	tu := mountDirs(t, lo)
	for _, name := range []string{"lower", "upper"} {
		if name == "upper" {
			if err := os.WriteFile(tu.p(name), []byte("y"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		f, err := os.Open(tu.p(name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Remove(tu.p(name)); err != nil {
			t.Fatal(err)
		}
		var st syscall.Stat_t
		if err := syscall.Fstat(int(f.Fd()), &st); err != nil {
			t.Fatal(err)
		}
		if st.Nlink != 0 {
			t.Errorf("%s: unlinked open file has nlink %d", name, st.Nlink)
		}
		f.Close()
	}
}

func TestTmpfile(t *testing.T) {
	tu := mountDirs(t, t.TempDir())
	fd, err := unix.Open(tu.mnt, unix.O_TMPFILE|unix.O_RDWR, 0o600)
	if err != nil {
		t.Fatalf("O_TMPFILE: %v", err)
	}
	defer unix.Close(fd)
	unix.Write(fd, []byte("tmp"))
	if err := unix.Linkat(unix.AT_FDCWD, "/proc/self/fd/"+strconv.Itoa(fd), unix.AT_FDCWD, tu.p("named"), unix.AT_SYMLINK_FOLLOW); err != nil {
		t.Fatalf("link O_TMPFILE into place: %v", err)
	}
	if got := readFile(t, tu.p("named")); got != "tmp" {
		t.Errorf("named = %q", got)
	}
}

func TestSQLiteAndGit(t *testing.T) {
	tu := mountDirs(t, t.TempDir())
	for _, tool := range []string{"sqlite3", "git"} {
		if _, err := exec.LookPath(tool); err != nil {
			nstest.Skip(t, tool+" is not installed")
		}
	}
	db := tu.p("t.db")
	out, err := exec.Command("sqlite3", db, "PRAGMA journal_mode=WAL; create table t(x); insert into t values(1),(2); select sum(x) from t;").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "3") {
		t.Errorf("sqlite3: %v: %s", err, out)
	}
	repo := tu.p("repo")
	cmd := exec.Command("sh", "-c", "git init -q "+repo+" && cd "+repo+" && echo x > f && git add f && git -c user.email=a@b -c user.name=n commit -qm m && git gc -q && git fsck")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("git: %v: %s", err, out)
	}
}

// TestCloseAfterRenameOverOpenLowerFile is apt's extended_states update:
// a lower file open for reading is replaced by rename; closing it must not
// fail (the kernel writes back the ctime it set on the replaced file).
func TestCloseAfterRenameOverOpenLowerFile(t *testing.T) {
	lo := t.TempDir()
	writeTree(t, lo, map[string]string{"d/state": "old"})
	tu := mountDirs(t, lo)
	old, err := os.Open(tu.p("d/state"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tu.p("d/state.new"), []byte("new"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tu.p("d/state.new"), tu.p("d/state")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 8)
	if n, err := old.Read(buf); err != nil || string(buf[:n]) != "old" {
		t.Errorf("read the replaced file: %q, %v", buf[:n], err)
	}
	if err := old.Close(); err != nil {
		t.Errorf("close the replaced file: %v", err)
	}
	if b, err := os.ReadFile(tu.p("d/state")); err != nil || string(b) != "new" {
		t.Errorf("the new file: %q, %v", b, err)
	}
}

// TestSyncAfterRemovingWrittenFile is tar giving up on a half-written
// file: created, written, closed, removed; then syncfs must not fail (the
// kernel writes back the times it cached for the removed file).
func TestSyncAfterRemovingWrittenFile(t *testing.T) {
	tu := mountDirs(t, t.TempDir())
	if err := os.Mkdir(tu.p("x"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tu.p("x/half"), []byte("partial"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(tu.p("x/half")); err != nil {
		t.Fatal(err)
	}
	d, err := os.Open(tu.p("x"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := unix.Syncfs(int(d.Fd())); err != nil {
		t.Errorf("syncfs after removing a written file: %v", err)
	}
}

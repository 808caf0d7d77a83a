package fuseunion

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

func TestReaddirStableUnderSeekAndChange(t *testing.T) {
	lo := t.TempDir()
	files := map[string]string{}
	for i := 0; i < 300; i++ {
		files[fmt.Sprintf("d/lower%03d", i)] = "x"
	}
	writeTree(t, lo, files)
	tu := mountDirs(t, lo)
	for i := 0; i < 300; i++ {
		os.WriteFile(tu.p(fmt.Sprintf("d/upper%03d", i)), nil, 0o644)
	}
	fd, err := unix.Open(tu.p("d"), unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	read := func() []string {
		var out []string
		buf := make([]byte, 4096)
		for {
			n, err := unix.Getdents(fd, buf)
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				return out
			}
			_, _, names := unix.ParseDirent(buf[:n], -1, nil)
			out = append(out, names...)
		}
	}
	first := read()
	if len(first) != 600 {
		t.Fatalf("listed %d entries, want 600", len(first))
	}
	seen := map[string]bool{}
	for _, n := range first {
		if seen[n] {
			t.Fatalf("%s listed twice", n)
		}
		seen[n] = true
	}
	// Change the directory, then rewind: the listing is the new one, and
	// reading it again in small pieces gives each name once.
	os.Remove(tu.p("d/lower000"))
	os.WriteFile(tu.p("d/new"), nil, 0o644)
	if _, err := unix.Seek(fd, 0, 0); err != nil {
		t.Fatal(err)
	}
	second := read()
	if len(second) != 600 {
		t.Errorf("after change listed %d entries, want 600", len(second))
	}
	has := map[string]bool{}
	for _, n := range second {
		has[n] = true
	}
	if has["lower000"] || !has["new"] {
		t.Errorf("rewound listing is stale: lower000=%v new=%v", has["lower000"], has["new"])
	}
}

func TestMmapSharedWritable(t *testing.T) {
	lo := t.TempDir()
	writeTree(t, lo, map[string]string{"f": "0123456789"})
	tu := mountDirs(t, lo)
	// A page fault on the union from the process serving it can deadlock
	// with the Go garbage collector, so another process maps the file.
	cmd := exec.Command("/proc/self/exe", "-test.run=^$")
	cmd.Args[0] = os.Args[0]
	cmd.Env = append(os.Environ(), mmapEnv+"="+tu.p("f"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("mmap child: %v: %s", err, out)
	}
	if got := readFile(t, filepath.Join(tu.upper, "f")); got != "ABC3456789" {
		t.Errorf("upper after msync = %q", got)
	}
}

// mmapEnv makes the test binary write "ABC" through a shared mapping of a
// file and msync it.
const mmapEnv = "NOOK_FUSEUNION_TEST_MMAP"

func init() {
	path := os.Getenv(mmapEnv)
	if path == "" {
		return
	}
	fail := func(err error) {
		os.Stderr.WriteString(err.Error() + "\n")
		os.Exit(1)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		fail(err)
	}
	m, err := unix.Mmap(int(f.Fd()), 0, 10, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		fail(fmt.Errorf("mmap shared writable: %w", err))
	}
	copy(m, "ABC")
	if err := unix.Msync(m, unix.MS_SYNC); err != nil {
		fail(err)
	}
	unix.Munmap(m)
	os.Exit(0)
}

func TestLocks(t *testing.T) {
	tu := mountDirs(t, t.TempDir())
	os.WriteFile(tu.p("lock"), nil, 0o644)
	a, _ := os.OpenFile(tu.p("lock"), os.O_RDWR, 0)
	b, _ := os.OpenFile(tu.p("lock"), os.O_RDWR, 0)
	defer a.Close()
	defer b.Close()
	if err := unix.Flock(int(a.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		t.Fatalf("flock: %v", err)
	}
	if err := unix.Flock(int(b.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != unix.EWOULDBLOCK {
		t.Errorf("second flock: %v, want EWOULDBLOCK", err)
	}
	lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: 0, Start: 0, Len: 10}
	if err := unix.FcntlFlock(a.Fd(), unix.F_OFD_SETLK, &lk); err != nil {
		t.Fatalf("OFD lock: %v", err)
	}
	if err := unix.FcntlFlock(b.Fd(), unix.F_OFD_SETLK, &lk); err != unix.EAGAIN {
		t.Errorf("conflicting OFD lock: %v, want EAGAIN", err)
	}
}

func TestFallocateSeekDataUtimesStatfs(t *testing.T) {
	tu := mountDirs(t, t.TempDir())
	f, err := os.Create(tu.p("f"))
	if err != nil {
		t.Fatal(err)
	}
	fd := int(f.Fd())
	if err := unix.Fallocate(fd, 0, 0, 1<<20); err != nil {
		t.Fatalf("fallocate: %v", err)
	}
	if err := f.Truncate(8 << 20); err != nil {
		t.Fatal(err)
	}
	f.WriteAt([]byte("x"), 6<<20)
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	if off, err := unix.Seek(fd, 2<<20, unix.SEEK_DATA); err != nil || off < 2<<20 || off > 6<<20 {
		t.Errorf("SEEK_DATA = %d %v", off, err)
	}
	f.Close()
	ts := []unix.Timespec{{Sec: 1000, Nsec: 123}, {Sec: 2000, Nsec: 456789}}
	if err := unix.UtimesNano(tu.p("f"), ts); err != nil {
		t.Fatal(err)
	}
	var st unix.Stat_t
	unix.Stat(tu.p("f"), &st)
	if st.Atim != ts[0] || st.Mtim != ts[1] {
		t.Errorf("times %v %v, want %v %v", st.Atim, st.Mtim, ts[0], ts[1])
	}
	var sfs unix.Statfs_t
	if err := unix.Statfs(tu.mnt, &sfs); err != nil || sfs.Blocks == 0 || sfs.Namelen != 255 {
		t.Errorf("statfs: %v blocks %d namelen %d", err, sfs.Blocks, sfs.Namelen)
	}
}

func TestInodeNumbersStable(t *testing.T) {
	lo := t.TempDir()
	writeTree(t, lo, map[string]string{"d/f": "x"})
	tu := mountDirs(t, lo)
	var d1, f1, d2, f2, root unix.Stat_t
	unix.Stat(tu.p("d"), &d1)
	unix.Stat(tu.p("d/f"), &f1)
	unix.Stat(tu.mnt, &root)
	os.WriteFile(tu.p("d/f"), []byte("y"), 0o644) // copies d and f up
	unix.Stat(tu.p("d"), &d2)
	unix.Stat(tu.p("d/f"), &f2)
	if d1.Ino != d2.Ino || f1.Ino != f2.Ino {
		t.Errorf("inode numbers changed by copy-up: d %d→%d f %d→%d", d1.Ino, d2.Ino, f1.Ino, f2.Ino)
	}
	if d1.Dev != root.Dev || f2.Dev != root.Dev {
		t.Errorf("st_dev differs inside the union")
	}
}

// TestIoctlNotTTY checks the answer to the ioctl every interpreter sends
// for each file it opens (TCGETS, "is this a terminal?"): ENOTTY, for
// lower and upper files, answered by the reader that read it (the go-fuse
// patch handles IOCTL inline, as nook implements none).
func TestIoctlNotTTY(t *testing.T) {
	lo := t.TempDir()
	writeTree(t, lo, map[string]string{"f": "x"})
	tu := mountDirs(t, lo)
	if err := os.WriteFile(tu.p("g"), []byte("y"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"f", "g"} {
		f, err := os.Open(tu.p(name))
		if err != nil {
			t.Fatal(err)
		}
		_, err = unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
		f.Close()
		if err != unix.ENOTTY {
			t.Errorf("%s: TCGETS: %v, want ENOTTY", name, err)
		}
	}
}

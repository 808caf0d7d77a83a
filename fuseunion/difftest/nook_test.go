package difftest

import (
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// Tests of nook's side of the deliberate differences (known_test.go): where
// nook promises more than kernel overlayfs, the promise is asserted here
// directly, with the kernel's answer logged for contrast.

var nookCandidates = []string{candNookDir, candNookTar}

// withNook mounts each nook candidate (and the kernel, for the log) over
// spec and runs fn on it.
func withNook(t *testing.T, spec string, fn func(t *testing.T, m, ref *mount)) {
	requireKernel(t)
	l := fixtureLayers(t, spec)
	b := newBacking(t, "disk")
	for _, name := range nookCandidates {
		t.Run(name, func(t *testing.T) {
			ms, err := mountAll(l, b, []string{name})
			if err != nil {
				t.Fatal(err)
			}
			defer func() {
				if err := unmountAll(ms); err != nil {
					t.Error(err)
				}
			}()
			fn(t, ms[1], ms[0])
		})
	}
}

// fixtureLayers parses a fixture spec and writes its layers.
func fixtureLayers(t *testing.T, spec string) *layers {
	t.Helper()
	lines, err := parseLines(spec)
	if err != nil {
		t.Fatal(err)
	}
	f, err := parseFixture(lines)
	if err != nil {
		t.Fatal(err)
	}
	return newLayers(t, f)
}

// mountEvery mounts the kernel and every candidate over spec, unmounted
// when the test ends.
func mountEvery(t *testing.T, spec string) []*mount {
	t.Helper()
	requireKernel(t)
	ms, err := mountAll(fixtureLayers(t, spec), newBacking(t, "disk"), candidates(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := unmountAll(ms); err != nil {
			t.Error(err)
		}
	})
	return ms
}

// expect applies o to m and fails unless it returns want; the kernel's
// answer on ref is logged.
func expect(t *testing.T, m, ref *mount, o op, want result) result {
	t.Helper()
	got := apply(m.root, o)
	if got != want {
		t.Errorf("%s: %s, want %s (kernel overlayfs: %s)", o, got, want, apply(ref.root, o))
	}
	return got
}

func lstat(t *testing.T, m *mount, p string) unix.Stat_t {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Lstat(join(m.root, p), &st); err != nil {
		t.Fatalf("lstat %s on %s: %v", p, m.name, err)
	}
	return st
}

const hardlinkLayers = `
layer
file p=h1 data=linked mode=0644 uid=1000
hardlink p=h2 q=h1
dir p=d
hardlink p=d/h3 q=h1
`

// TestNookHardlinkKeepsIdentity: copy-up of one name keeps the group whole.
func TestNookHardlinkKeepsIdentity(t *testing.T) {
	withNook(t, hardlinkLayers, func(t *testing.T, m, ref *mount) {
		ino := lstat(t, m, "h1").Ino
		group := func(nlink uint64, names ...string) {
			t.Helper()
			for _, p := range names {
				st := lstat(t, m, p)
				if st.Ino != ino || st.Nlink != nlink {
					t.Errorf("%s: st_ino %d nlink %d, want %d and %d", p, st.Ino, st.Nlink, ino, nlink)
				}
			}
		}
		group(3, "h1", "h2", "d/h3")
		expect(t, m, ref, op{Kind: "chmod", P: "h1", Mode: 0o600}, result{})
		expect(t, m, ref, op{Kind: "stat", P: "d/h3"}, result{Out: "file mode=0600 uid=1000 gid=0 size=6"})
		expect(t, m, ref, op{Kind: "append", P: "h2", Data: "+more"}, result{})
		expect(t, m, ref, op{Kind: "read", P: "d/h3"}, result{Out: `"linked+more"`})
		expect(t, m, ref, op{Kind: "setxattr", P: "d/h3", Name: "user.k", Value: "v"}, result{})
		expect(t, m, ref, op{Kind: "getxattr", P: "h1", Name: "user.k"}, result{Out: `"v"`})
		group(3, "h1", "h2", "d/h3")
		expect(t, m, ref, op{Kind: "link", P: "h2", Q: "h4"}, result{})
		group(4, "h1", "h2", "d/h3", "h4")
		expect(t, m, ref, op{Kind: "unlink", P: "h1"}, result{})
		group(3, "h2", "d/h3", "h4")
		expect(t, m, ref, op{Kind: "rename", P: "d/h3", Q: "h5"}, result{})
		group(3, "h2", "h4", "h5")
	})
}

// TestNookHardlinkRenameOntoItself: rename between two names of one inode
// is a successful no-op (POSIX), where the kernel renames separate inodes.
func TestNookHardlinkRenameOntoItself(t *testing.T) {
	withNook(t, hardlinkLayers, func(t *testing.T, m, ref *mount) {
		expect(t, m, ref, op{Kind: "rename", P: "h1", Q: "h2"}, result{})
		if lstat(t, m, "h1").Ino != lstat(t, m, "h2").Ino {
			t.Errorf("h1 and h2 no longer share an inode")
		}
		expect(t, m, ref, op{Kind: "chmod", P: "h1", Mode: 0o640}, result{})
		expect(t, m, ref, op{Kind: "rename", P: "h2", Q: "d/h3"}, result{})
		expect(t, m, ref, op{Kind: "readdir", P: ""}, result{Out: "[d/dir h1/file h2/file]"})
	})
}

// TestNookRenamesLowerDir: no EXDEV for lower or merged directories.
func TestNookRenamesLowerDir(t *testing.T) {
	withNook(t, `
layer
dir p=d
file p=d/x data=x
dir p=d/sub
file p=d/sub/y data=y
layer
dir p=d
file p=d/z data=z
`, func(t *testing.T, m, ref *mount) {
		expect(t, m, ref, op{Kind: "rename", P: "d", Q: "e"}, result{})
		expect(t, m, ref, op{Kind: "readdir", P: "e"}, result{Out: "[sub/dir x/file z/file]"})
		expect(t, m, ref, op{Kind: "stat", P: "d"}, result{Errno: unix.ENOENT})
		expect(t, m, ref, op{Kind: "rename", P: "e/sub", Q: "sub2"}, result{})
		expect(t, m, ref, op{Kind: "read", P: "sub2/y"}, result{Out: `"y"`})
		expect(t, m, ref, op{Kind: "mkdir", P: "d", Mode: 0o755}, result{})
		expect(t, m, ref, op{Kind: "readdir", P: "d"}, result{Out: "[]"})
		expect(t, m, ref, op{Kind: "rename", P: "e", Q: "d", Flags: "exchange"}, result{})
		expect(t, m, ref, op{Kind: "readdir", P: "d"}, result{Out: "[x/file z/file]"})
	})
}

// TestNookRefusesWhiteoutNames: names that would read as whiteouts in an
// OCI upper, and 0:0 character devices, are refused with EPERM and change
// nothing.
func TestNookRefusesWhiteoutNames(t *testing.T) {
	withNook(t, `
layer
file p=a data=a
dir p=d
file p=d/b data=b
`, func(t *testing.T, m, ref *mount) {
		eperm := result{Errno: unix.EPERM}
		for _, o := range []op{
			{Kind: "create", P: ".wh.a", Mode: 0o644},
			{Kind: "create", P: "d/.wh..wh..opq", Mode: 0o644},
			{Kind: "mkdir", P: ".wh.d", Mode: 0o755},
			{Kind: "symlink", P: "d/.wh.b", Q: "x"},
			{Kind: "mkfifo", P: ".wh.f", Mode: 0o644},
			{Kind: "link", P: "a", Q: "d/.wh.b"},
			{Kind: "rename", P: "a", Q: ".wh.d"},
			{Kind: "rename", P: "d", Q: ".wh.a"},
			{Kind: "mknod", P: "dev"},
			{Kind: "mknod", P: "a"},
		} {
			want := eperm
			if o.Kind == "mknod" && o.P == "a" {
				want = result{Errno: unix.EEXIST}
			}
			expect(t, m, ref, o, want)
		}
		expect(t, m, ref, op{Kind: "readdir", P: ""}, result{Out: "[a/file d/dir]"})
		expect(t, m, ref, op{Kind: "readdir", P: "d"}, result{Out: "[b/file]"})
		expect(t, m, ref, op{Kind: "stat", P: ".wh.a"}, result{Errno: unix.ENOENT})
	})
}

// TestNookHidesStrayWhiteouts: a whiteout in a directory no lower layer
// has, or in an opaque directory, hides nothing; kernel overlayfs lists it
// in readdir (as a character device that lookup then denies), nook never
// shows whiteouts.
func TestNookHidesStrayWhiteouts(t *testing.T) {
	withNook(t, `
layer
file p=a data=a
layer
dir p=only
whiteout p=only/ghost
file p=only/real data=r
dir p=op opaque=y
whiteout p=op/ghost
`, func(t *testing.T, m, ref *mount) {
		expect(t, m, ref, op{Kind: "readdir", P: "only"}, result{Out: "[real/file]"})
		expect(t, m, ref, op{Kind: "readdir", P: "op"}, result{Out: "[]"})
		expect(t, m, ref, op{Kind: "stat", P: "only/ghost"}, result{Errno: unix.ENOENT})
		expect(t, m, ref, op{Kind: "rmdir", P: "op"}, result{})
	})
}

// TestOpenUnlinkedFile: an unlinked file that is still open reports nlink
// 0 and keeps its contents, on the kernel and on every candidate.
func TestOpenUnlinkedFile(t *testing.T) {
	ms := mountEvery(t, "layer\nfile p=lower data=from-lower\n")
	for _, m := range ms {
		if err := os.WriteFile(join(m.root, "upper"), []byte("from-upper"), 0o644); err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{"lower", "upper"} {
			fh, err := os.OpenFile(join(m.root, p), os.O_RDWR, 0)
			if err != nil {
				t.Fatalf("%s: open %s: %v", m.name, p, err)
			}
			if err := os.Remove(join(m.root, p)); err != nil {
				t.Fatalf("%s: unlink %s: %v", m.name, p, err)
			}
			var st unix.Stat_t
			if err := unix.Fstat(int(fh.Fd()), &st); err != nil {
				t.Fatalf("%s: fstat %s: %v", m.name, p, err)
			}
			if st.Nlink != 0 {
				t.Errorf("%s: open unlinked %s has nlink %d, want 0", m.name, p, st.Nlink)
			}
			buf := make([]byte, 64)
			n, err := fh.ReadAt(buf, 0)
			if want := "from-" + p; string(buf[:n]) != want {
				t.Errorf("%s: open unlinked %s reads %q (%v), want %q", m.name, p, buf[:n], err, want)
			}
			fh.Close()
		}
	}
}

// TestExplicitAtimeKept: utimensat with distinct explicit atime and mtime
// (the random ops set both to one value) is kept to the nanosecond, on a
// lower file, an upper file, a directory and a symlink, on the kernel and
// every candidate. Nothing reads the files in between: reads may update
// atime under relatime.
func TestExplicitAtimeKept(t *testing.T) {
	ms := mountEvery(t, "layer\nfile p=lower data=x\ndir p=dir\nsymlink p=ln q=lower\n")
	atime := unix.Timespec{Sec: 1111111111, Nsec: 123456789}
	mtime := unix.Timespec{Sec: 1222222222, Nsec: 987654321}
	for _, m := range ms {
		if err := os.WriteFile(join(m.root, "upper"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{"lower", "upper", "dir", "ln"} {
			if err := unix.UtimesNanoAt(unix.AT_FDCWD, join(m.root, p), []unix.Timespec{atime, mtime}, unix.AT_SYMLINK_NOFOLLOW); err != nil {
				t.Errorf("%s: utimensat %s: %v", m.name, p, err)
				continue
			}
			st := lstat(t, m, p)
			if st.Atim != atime || st.Mtim != mtime {
				t.Errorf("%s: %s has atime %d.%09d mtime %d.%09d, want %d.%09d and %d.%09d", m.name, p,
					st.Atim.Sec, st.Atim.Nsec, st.Mtim.Sec, st.Mtim.Nsec, atime.Sec, atime.Nsec, mtime.Sec, mtime.Nsec)
			}
		}
	}
}

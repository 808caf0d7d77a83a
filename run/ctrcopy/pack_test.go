package ctrcopy

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// entries lists an archive's headers, the global one first if any.
func entries(t *testing.T, b []byte) []*tar.Header {
	t.Helper()
	tr := tar.NewReader(bytes.NewReader(b))
	var out []*tar.Header
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, h)
	}
}

func names(hs []*tar.Header) []string {
	var out []string
	for _, h := range hs {
		if h.Typeflag != tar.TypeXGlobalHeader {
			out = append(out, h.Name)
		}
	}
	return out
}

func TestPackNames(t *testing.T) {
	tmp := t.TempDir()
	write(t, tmp, "d/a", "A", 0o644)
	write(t, tmp, "d/s/b", "B", 0o644)
	symlink(t, "d", filepath.Join(tmp, "l"))
	for _, c := range []struct {
		src    string
		follow bool
		info   Info
		names  []string
	}{
		{src: "d", info: Info{Name: "d", IsDir: true}, names: []string{"d/", "d/a", "d/s/", "d/s/b"}},
		{src: "d/.", info: Info{Name: ".", IsDir: true}, names: []string{"./", "a", "s/", "s/b"}},
		{src: "d/a", info: Info{Name: "a"}, names: []string{"a"}},
		{src: "l", info: Info{Name: "l"}, names: []string{"l"}},
		{src: "l", follow: true, info: Info{Name: "l", IsDir: true}, names: []string{"l/", "l/a", "l/s/", "l/s/b"}},
		{src: "l/.", info: Info{Name: ".", IsDir: true}, names: []string{"./", "a", "s/", "s/b"}},
	} {
		src := tmp + "/" + c.src // not Join, which drops a final "/."
		b, info := pack(t, src, PackOptions{FollowLink: c.follow})
		if info != c.info {
			t.Errorf("Pack(%s) info = %+v, want %+v", c.src, info, c.info)
		}
		hs := entries(t, b)
		if got := names(hs); !slices.Equal(got, c.names) {
			t.Errorf("Pack(%s) names = %q, want %q", c.src, got, c.names)
		}
		inband, ok, err := infoFromHeader(hs[0])
		if !ok || err != nil || inband != c.info {
			t.Errorf("Pack(%s) global header = %+v %v %v, want %+v", c.src, inband, ok, err, c.info)
		}
		if st, err := Stat(src, c.follow); err != nil || st != c.info {
			t.Errorf("Stat(%s) = %+v, %v; want %+v", c.src, st, err, c.info)
		}
	}
	b, _ := pack(t, filepath.Join(tmp, "d"), PackOptions{Plain: true})
	if hs := entries(t, b); hs[0].Typeflag == tar.TypeXGlobalHeader {
		t.Error("Plain archive starts with a global header")
	}
}

// TestMetadataKept copies a tree with every kind of entry an unprivileged
// user can make and compares each entry's type, mode, mtime (to the
// nanosecond) and link identity.
func TestMetadataKept(t *testing.T) {
	tmp := t.TempDir()
	src := mkdir(t, tmp, "src")
	write(t, src, "plain", "x", 0o640)
	write(t, src, "exec", "#!/bin/sh\n", 0o755)
	write(t, src, "suid", "s", 0o4755)
	write(t, src, "sgid", "g", 0o2750)
	write(t, src, "ro/inside", "i", 0o400)
	write(t, src, "sticky/f", "", 0o644)
	write(t, src, "sgiddir/f", "", 0o644)
	write(t, src, "big", string(bytes.Repeat([]byte("0123456789"), 300000)), 0o644)
	if err := os.Link(filepath.Join(src, "plain"), filepath.Join(src, "ro/hard")); err != nil {
		t.Fatal(err)
	}
	symlink(t, "../plain", filepath.Join(src, "sticky/rel"))
	symlink(t, "/nonexistent/abs", filepath.Join(src, "dangling"))
	if err := unix.Mkfifo(filepath.Join(src, "fifo"), 0o620); err != nil {
		t.Fatal(err)
	}
	chmod(t, filepath.Join(src, "fifo"), 0o620)
	chmod(t, filepath.Join(src, "sticky"), 0o1777)
	chmod(t, filepath.Join(src, "sgiddir"), 0o2775)
	chmod(t, filepath.Join(src, "ro"), 0o555)
	t.Cleanup(func() { os.Chmod(filepath.Join(src, "ro"), 0o755) })
	// Distinct nanosecond mtimes, directories last (their entries above
	// changed them).
	when := time.Date(2021, 3, 4, 5, 6, 7, 123456789, time.UTC)
	var paths []string
	filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		paths = append(paths, p)
		return err
	})
	slices.Reverse(paths)
	for i, p := range paths {
		ts := []unix.Timespec{unix.NsecToTimespec(when.UnixNano()), unix.NsecToTimespec(when.Add(time.Duration(i) * 1001 * time.Nanosecond).UnixNano())}
		if err := unix.UtimesNanoAt(unix.AT_FDCWD, p, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			t.Fatal(err)
		}
	}

	dst := filepath.Join(tmp, "dst")
	if err := copyPath(t, src, dst, PackOptions{}, UnpackOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(filepath.Join(dst, "ro"), 0o755) })
	compareTrees(t, src, dst)
	for rel, m := range map[string]uint32{"suid": 0o4755, "sgid": 0o2750, "sticky": 0o1777, "sgiddir": 0o2775, "ro": 0o555, "fifo": 0o620} {
		if got := lstat(t, filepath.Join(dst, rel)).Mode & 0o7777; got != m {
			t.Errorf("%s: mode %o, want %o", rel, got, m)
		}
	}
	a, b := lstat(t, filepath.Join(dst, "plain")), lstat(t, filepath.Join(dst, "ro/hard"))
	if a.Ino != b.Ino || a.Nlink != 2 {
		t.Errorf("hardlink not kept: plain ino %d nlink %d, ro/hard ino %d", a.Ino, a.Nlink, b.Ino)
	}
	if a.Uid != uint32(os.Getuid()) {
		t.Errorf("plain owned by %d, want the caller %d (no chown asked)", a.Uid, os.Getuid())
	}
	noTemps(t, tmp)
}

func lstat(t *testing.T, p string) *syscall.Stat_t {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Lstat(p, &st); err != nil {
		t.Fatal(err)
	}
	return &st
}

// compareTrees checks that every entry of a has the same type, mode,
// mtime, size and content (or link target) in b.
func compareTrees(t *testing.T, a, b string) {
	t.Helper()
	err := filepath.WalkDir(a, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(a, p)
		q := filepath.Join(b, rel)
		sa, sb := lstat(t, p), lstat(t, q)
		if sa.Mode != sb.Mode {
			t.Errorf("%s: mode %o, want %o", rel, sb.Mode, sa.Mode)
		}
		if sa.Mode&syscall.S_IFMT != syscall.S_IFLNK && sa.Mtim != sb.Mtim {
			t.Errorf("%s: mtime %v, want %v", rel, sb.Mtim, sa.Mtim)
		}
		if sa.Mode&syscall.S_IFMT == syscall.S_IFLNK && sa.Mtim != sb.Mtim {
			t.Errorf("%s (symlink): mtime %v, want %v", rel, sb.Mtim, sa.Mtim)
		}
		switch sa.Mode & syscall.S_IFMT {
		case syscall.S_IFREG:
			ca, _ := os.ReadFile(p)
			cb, err := os.ReadFile(q)
			if err != nil || !bytes.Equal(ca, cb) {
				t.Errorf("%s: content differs (%d vs %d bytes, %v)", rel, len(cb), len(ca), err)
			}
		case syscall.S_IFLNK:
			la, _ := os.Readlink(p)
			if lb, _ := os.Readlink(q); la != lb {
				t.Errorf("%s: link to %q, want %q", rel, lb, la)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestSymlinkSource(t *testing.T) {
	tmp := t.TempDir()
	write(t, tmp, "target", "T", 0o600)
	symlink(t, "target", filepath.Join(tmp, "link"))
	out := mkdir(t, tmp, "out")
	if err := copyPath(t, filepath.Join(tmp, "link"), out, PackOptions{}, UnpackOptions{}); err != nil {
		t.Fatal(err)
	}
	if l, err := os.Readlink(filepath.Join(out, "link")); err != nil || l != "target" {
		t.Errorf("without FollowLink: out/link is %q, %v; want the link to target", l, err)
	}
	if err := copyPath(t, filepath.Join(tmp, "link"), filepath.Join(out, "followed"), PackOptions{FollowLink: true}, UnpackOptions{}); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(filepath.Join(out, "followed")); err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o600 {
		t.Errorf("with FollowLink: out/followed is %v, %v; want a 0600 file", fi, err)
	}
}

// TestDeviceNode copies /dev/null: a device is created where the caller
// may, and otherwise skipped and reported, never an error.
func TestDeviceNode(t *testing.T) {
	out := t.TempDir()
	var skipped []string
	err := copyPath(t, "/dev/null", out, PackOptions{}, UnpackOptions{OnSkip: func(name string, err error) {
		skipped = append(skipped, name)
		t.Logf("skipped %s: %v", name, err)
	}})
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Lstat(filepath.Join(out, "null"))
	switch {
	case err == nil:
		if fi.Mode()&fs.ModeCharDevice == 0 {
			t.Errorf("out/null is %v, want a character device", fi.Mode())
		}
	case errors.Is(err, fs.ErrNotExist):
		if !slices.Equal(skipped, []string{"null"}) {
			t.Errorf("device neither created nor reported: skipped %q", skipped)
		}
	default:
		t.Fatal(err)
	}
	noTemps(t, out)
}

// TestSocketSkipped: tar cannot hold a socket; Pack leaves it out and
// says so.
func TestSocketSkipped(t *testing.T) {
	tmp := t.TempDir()
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if err := unix.Bind(fd, &unix.SockaddrUnix{Name: filepath.Join(tmp, "sock")}); err != nil {
		t.Fatal(err)
	}
	write(t, tmp, "f", "f", 0o644)
	var skipped []string
	b, _ := pack(t, tmp+"/.", PackOptions{OnSkip: func(name string, err error) { skipped = append(skipped, name) }})
	if got := names(entries(t, b)); !slices.Equal(got, []string{"./", "f"}) || !slices.Equal(skipped, []string{"sock"}) {
		t.Errorf("names %q, skipped %q", got, skipped)
	}
}

// TestReplaceKeepsOldOnFailure: a file replaced by a copy whose archive
// breaks keeps its old content; nothing half-written appears.
func TestReplaceKeepsOldOnFailure(t *testing.T) {
	tmp := t.TempDir()
	write(t, tmp, "src/f", string(bytes.Repeat([]byte("n"), 100000)), 0o644)
	dst := write(t, tmp, "dst", "old", 0o644)
	b, _ := pack(t, filepath.Join(tmp, "src/f"), PackOptions{})
	err := Unpack(bytes.NewReader(b[:len(b)/2]), dst, UnpackOptions{})
	if !errors.Is(err, ErrBadArchive) {
		t.Fatalf("Unpack of half an archive: %v, want ErrBadArchive", err)
	}
	if c, _ := os.ReadFile(dst); string(c) != "old" {
		t.Errorf("dst holds %d bytes, want the old content", len(c))
	}
	noTemps(t, tmp)
}

// TestStreamed copies through a pipe, as the CLI does between the host
// and the container's `nook __cp`.
func TestStreamed(t *testing.T) {
	tmp := t.TempDir()
	write(t, tmp, "src/a/b/c", "deep", 0o644)
	write(t, tmp, "src/big", string(bytes.Repeat([]byte("z"), 3<<20)), 0o644)
	r, w := io.Pipe()
	done := make(chan error, 1)
	go func() {
		_, err := Pack(w, filepath.Join(tmp, "src"), PackOptions{})
		w.CloseWithError(err)
		done <- err
	}()
	if err := Unpack(r, filepath.Join(tmp, "copy"), UnpackOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	compareTrees(t, filepath.Join(tmp, "src"), filepath.Join(tmp, "copy"))
}

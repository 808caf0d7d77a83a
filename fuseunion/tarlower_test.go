package fuseunion

import (
	"archive/tar"
	"bytes"
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nookrun/nook/layer"
	"golang.org/x/sys/unix"
)

// tarLayer indexes a tar built from hdrs (with contents) into a layer and
// opens it as a lower.
func tarLayer(t *testing.T, entries []tarEntry) Lower {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := e.hdr
		h.Size = int64(len(e.body))
		if h.ModTime.IsZero() {
			h.ModTime = time.Unix(1700000000, 0)
		}
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(e.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	info, err := layer.Create(context.Background(), &buf, dir)
	if err != nil {
		t.Fatal(err)
	}
	l, err := OpenTarLower(filepath.Join(dir, strings.TrimPrefix(info.DiffID, "sha256:")+".tar"))
	if err != nil {
		t.Fatal(err)
	}
	return l
}

type tarEntry struct {
	hdr  tar.Header
	body string
}

func reg(name, body string, mode int64) tarEntry {
	return tarEntry{tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode}, body}
}

func TestTarLowerServesLayer(t *testing.T) {
	base := tarLayer(t, []tarEntry{
		{tar.Header{Typeflag: tar.TypeDir, Name: "etc/", Mode: 0o755}, ""},
		reg("etc/passwd", "root:x:0:0::/root:/bin/sh\n", 0o644),
		reg("etc/gone", "x", 0o644),
		{tar.Header{Typeflag: tar.TypeDir, Name: "bin/", Mode: 0o755}, ""},
		{tar.Header{Typeflag: tar.TypeReg, Name: "bin/su", Mode: 0o4755, Uid: 0, Gid: 0}, "ELF"},
		// As containerd applies it, a link header's metadata reaches the inode.
		{tar.Header{Typeflag: tar.TypeLink, Name: "bin/su2", Linkname: "bin/su", Mode: 0o4755}, ""},
		{tar.Header{Typeflag: tar.TypeSymlink, Name: "bin/sh", Linkname: "busybox"}, ""},
		{tar.Header{Typeflag: tar.TypeChar, Name: "dev/null", Mode: 0o666, Devmajor: 1, Devminor: 3}, ""},
		{tar.Header{Typeflag: tar.TypeReg, Name: "home/user/f", Mode: 0o600, Uid: 1000, Gid: 1000,
			PAXRecords: map[string]string{"SCHILY.xattr.user.k": "v"}}, "mine"},
	})
	top := tarLayer(t, []tarEntry{
		reg("etc/.wh.gone", "", 0o644),
		reg("etc/hostname", "top\n", 0o644),
	})
	tu := mountLowers(t, []Lower{top, base})
	if got := names(t, tu.p("etc")); !reflect.DeepEqual(got, []string{"hostname", "passwd"}) {
		t.Errorf("etc = %v", got)
	}
	var st unix.Stat_t
	if err := unix.Lstat(tu.p("dev/null"), &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFCHR || st.Rdev != unix.Mkdev(1, 3) {
		t.Errorf("dev/null: %v mode %o rdev %x", err, st.Mode, st.Rdev)
	}
	if err := unix.Lstat(tu.p("bin/su"), &st); err != nil || st.Mode&0o7777 != 0o4755 || st.Nlink != 2 {
		t.Errorf("bin/su: %v mode %o nlink %d", err, st.Mode&0o7777, st.Nlink)
	}
	var st2 unix.Stat_t
	unix.Lstat(tu.p("bin/su2"), &st2)
	if st2.Ino != st.Ino {
		t.Errorf("hard link su2 has ino %d, su %d", st2.Ino, st.Ino)
	}
	if l, err := os.Readlink(tu.p("bin/sh")); err != nil || l != "busybox" {
		t.Errorf("bin/sh -> %q %v", l, err)
	}
	if err := unix.Lstat(tu.p("home/user/f"), &st); err != nil || st.Uid != 1000 || st.Gid != 1000 {
		t.Errorf("home/user/f owner %d:%d %v", st.Uid, st.Gid, err)
	}
	buf := make([]byte, 16)
	if n, err := unix.Getxattr(tu.p("home/user/f"), "user.k", buf); err != nil || string(buf[:n]) != "v" {
		t.Errorf("xattr user.k = %q %v", buf[:n], err)
	}
	if got := readFile(t, tu.p("etc/passwd")); !strings.HasPrefix(got, "root:x") {
		t.Errorf("passwd = %q", got)
	}
	// Copy-up from the tar keeps content, mode, owner and the link group.
	if err := os.WriteFile(tu.p("bin/su"), []byte("NEW"), 0); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, tu.p("bin/su2")); got != "NEW" {
		t.Errorf("su2 after copy-up of su = %q", got)
	}
	if err := unix.Lstat(tu.p("bin/su2"), &st); err != nil || st.Ino != st2.Ino || st.Nlink != 2 {
		t.Errorf("su2 after copy-up: ino %d (was %d) nlink %d", st.Ino, st2.Ino, st.Nlink)
	}
}

func TestTarLowerSparseAndLarge(t *testing.T) {
	// A 5 GiB sparse file made by GNU tar: over 4 GiB, holes kept.
	src := t.TempDir()
	f := filepath.Join(src, "big")
	fh, err := os.Create(f)
	if err != nil {
		t.Fatal(err)
	}
	fh.WriteAt([]byte("head"), 0)
	fh.WriteAt([]byte("tail"), 5<<30-4)
	fh.Close()
	tarPath := filepath.Join(t.TempDir(), "in.tar")
	if out, err := execOut("tar", "--sparse", "--format=posix", "-C", src, "-cf", tarPath, "big"); err != nil {
		t.Fatalf("tar: %v: %s", err, out)
	}
	in, err := os.Open(tarPath)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	dir := t.TempDir()
	info, err := layer.Create(context.Background(), in, dir)
	if err != nil {
		t.Fatal(err)
	}
	l, err := OpenTarLower(filepath.Join(dir, strings.TrimPrefix(info.DiffID, "sha256:")+".tar"))
	if err != nil {
		t.Fatal(err)
	}
	tu := mountLowers(t, []Lower{l})
	var st syscall.Stat_t
	if err := syscall.Stat(tu.p("big"), &st); err != nil || st.Size != 5<<30 {
		t.Fatalf("big: size %d %v", st.Size, err)
	}
	g, err := os.Open(tu.p("big"))
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 4)
	g.ReadAt(b, 5<<30-4)
	if string(b) != "tail" {
		t.Errorf("tail = %q", b)
	}
	g.ReadAt(b, 1<<30)
	if !bytes.Equal(b, make([]byte, 4)) {
		t.Errorf("hole reads %v", b)
	}
	if off, err := unix.Seek(int(g.Fd()), 4, unix.SEEK_HOLE); err != nil || off < 4 || off > 1<<20 {
		t.Errorf("SEEK_HOLE from 4 = %d %v", off, err)
	}
	g.Close()
	// Copy-up of the sparse file keeps it sparse in the upper.
	h, err := os.OpenFile(tu.p("big"), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	h.Write([]byte("!"))
	h.Close()
	if err := syscall.Stat(filepath.Join(tu.upper, "big"), &st); err != nil || st.Size != 5<<30+1 || st.Blocks*512 > 64<<20 {
		t.Errorf("upper big: size %d blocks %d %v", st.Size, st.Blocks, err)
	}
}

// TestSELinuxLabelNotServed checks that security.selinux is neither shown
// nor settable, on lower and upper files alike, while the file's other
// xattrs are: EOPNOTSUPP is what makes ls -l stop asking for it per file.
func TestSELinuxLabelNotServed(t *testing.T) {
	lo := tarLayer(t, []tarEntry{
		{tar.Header{Typeflag: tar.TypeReg, Name: "f", Mode: 0o644, PAXRecords: map[string]string{
			"SCHILY.xattr.security.selinux": "system_u:object_r:bin_t:s0",
			"SCHILY.xattr.user.k":           "v",
		}}, "x"},
	})
	tu := mountLowers(t, []Lower{lo})
	if err := os.WriteFile(tu.p("new"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 256)
	for _, name := range []string{"f", "new"} {
		if _, err := unix.Lgetxattr(tu.p(name), "security.selinux", buf); err != unix.EOPNOTSUPP {
			t.Errorf("%s: getxattr security.selinux: %v, want EOPNOTSUPP", name, err)
		}
		if err := unix.Lsetxattr(tu.p(name), "security.selinux", []byte("x"), 0); err != unix.EOPNOTSUPP {
			t.Errorf("%s: setxattr security.selinux: %v, want EOPNOTSUPP", name, err)
		}
		if err := unix.Lremovexattr(tu.p(name), "security.selinux"); err != unix.EOPNOTSUPP {
			t.Errorf("%s: removexattr security.selinux: %v, want EOPNOTSUPP", name, err)
		}
	}
	// The lower file's listing and its other xattrs, before and after a
	// copy-up (which carries the layer's xattrs into the meta store).
	for _, when := range []string{"lower", "copied up"} {
		n, err := unix.Llistxattr(tu.p("f"), buf)
		if err != nil || string(buf[:n]) != "user.k\x00" {
			t.Errorf("%s: listxattr = %q %v, want only user.k", when, buf[:n], err)
		}
		if n, err := unix.Lgetxattr(tu.p("f"), "user.k", buf); err != nil || string(buf[:n]) != "v" {
			t.Errorf("%s: user.k = %q %v", when, buf[:n], err)
		}
		if err := os.Chmod(tu.p("f"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// TestTarLowerCopyUpKeepsBytes copies up a tar member whose data is not
// page-aligned in the tar (so it goes through the buffered copy) and spans
// several of the copy's buffers, and checks every byte.
func TestTarLowerCopyUpKeepsBytes(t *testing.T) {
	body := make([]byte, 700<<10+123)
	rand.NewChaCha8([32]byte{1}).Read(body)
	lo := tarLayer(t, []tarEntry{reg("f", string(body), 0o644)})
	tu := mountLowers(t, []Lower{lo})
	h, err := os.OpenFile(tu.p("f"), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Write([]byte("!")); err != nil {
		t.Fatal(err)
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{tu.p("f"), filepath.Join(tu.upper, "f")} {
		got, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, append(body[:len(body):len(body)], '!')) {
			t.Errorf("%s: %d bytes, not the layer's %d and the appended one", p, len(got), len(body))
		}
	}
}

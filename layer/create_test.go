package layer

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestCreateBasic(t *testing.T) {
	data := newTar(t).
		dir("./", 0o750).
		dir("usr/", 0o755).
		dir("usr/bin/", 0o755).
		add(&tar.Header{Typeflag: tar.TypeReg, Name: "usr/bin/su", Mode: 0o4755, Uid: 0, Gid: 0}, "setuid binary").
		file("usr/bin/ls", "ls contents").
		symlink("usr/bin/dir", "ls").
		add(&tar.Header{Typeflag: tar.TypeChar, Name: "dev/null", Mode: 0o666, Devmajor: 1, Devminor: 3}, "").
		add(&tar.Header{Typeflag: tar.TypeBlock, Name: "dev/sda", Mode: 0o660, Devmajor: 8, Devminor: 0, Gid: 6}, "").
		add(&tar.Header{Typeflag: tar.TypeFifo, Name: "run/fifo", Mode: 0o600, Uid: 1000, Gid: 1000}, "").
		file("empty", "").
		bytes()
	l, info, dir := create(t, data)

	sum := sha256.Sum256(data)
	if want := fmt.Sprintf("sha256:%x", sum); info.DiffID != want || l.DiffID() != want {
		t.Fatalf("DiffID %s (layer %s), want %s", info.DiffID, l.DiffID(), want)
	}
	if info.Size != int64(len(data)) || info.Dropped != 0 || info.Entries != l.Len() {
		t.Fatalf("info %+v for %d bytes, %d entries", info, len(data), l.Len())
	}
	stored, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("%x.tar", sum)))
	if err != nil || !bytes.Equal(stored, data) {
		t.Fatalf("stored tar differs from the stream (err %v)", err)
	}
	if got := dirEntries(t, dir); len(got) != 2 {
		t.Fatalf("dir holds %v, want the .tar and .idx only", got)
	}
	for _, ext := range []string{".tar", ".idx"} {
		if fi, err := os.Stat(filepath.Join(dir, fmt.Sprintf("%x", sum)+ext)); err != nil || fi.Mode().Perm() != 0o644 {
			t.Fatalf("%s: %v %v, want mode 0644", ext, fi.Mode(), err)
		}
	}
	if !Exists(dir, info.DiffID) || Exists(dir, "sha256:"+fmt.Sprintf("%064x", 0)) || Exists(dir, "bogus") {
		t.Fatal("Exists wrong")
	}

	var root Entry
	l.Entry(Root, &root)
	if root.Mode != 0o750 || root.Implicit {
		t.Errorf("root %+v, want mode 0750 from the ./ header", root)
	}
	_, su := must(t, l, "usr/bin/su")
	if su.Kind != KindReg || su.Mode != 0o4755 || su.Size != 13 || su.Nlink != 1 || su.Sparse {
		t.Errorf("su %+v", su)
	}
	if su.Mtime != (Timespec{testTime.Unix(), 0}) && su.Mtime != (Timespec{testTime.Unix(), int64(testTime.Nanosecond())}) {
		t.Errorf("su mtime %+v", su.Mtime)
	}
	if su.Atime != su.Mtime || su.Ctime != su.Mtime {
		t.Errorf("atime/ctime %+v %+v, want mtime %+v", su.Atime, su.Ctime, su.Mtime)
	}
	if got := content(t, l, "usr/bin/ls"); got != "ls contents" {
		t.Errorf("ls content %q", got)
	}
	_, dirE := must(t, l, "usr/bin/dir")
	if dirE.Kind != KindSymlink || dirE.Link != "ls" || dirE.Size != 2 {
		t.Errorf("symlink %+v", dirE)
	}
	_, null := must(t, l, "dev/null")
	if null.Kind != KindChar || null.Rdev != unix.Mkdev(1, 3) || null.Mode != 0o666 {
		t.Errorf("dev/null %+v", null)
	}
	_, sda := must(t, l, "dev/sda")
	if sda.Kind != KindBlock || sda.Rdev != unix.Mkdev(8, 0) || sda.Gid != 6 {
		t.Errorf("dev/sda %+v", sda)
	}
	_, fifo := must(t, l, "run/fifo")
	if fifo.Kind != KindFifo || fifo.Uid != 1000 || fifo.Gid != 1000 || fifo.Mode != 0o600 {
		t.Errorf("fifo %+v", fifo)
	}
	_, dev := must(t, l, "dev")
	if !dev.Implicit || dev.Kind != KindDir || dev.Mode != 0o755 || dev.Uid != 0 || dev.Gid != 0 {
		t.Errorf("implicit dev %+v", dev)
	}
	emptyID, empty := must(t, l, "empty")
	if empty.Size != 0 || len(l.Extents(emptyID)) != 0 {
		t.Errorf("empty file %+v extents %v", empty, l.Extents(emptyID))
	}
	// Data offsets point into the tar at the file's bytes.
	lsID, _ := must(t, l, "usr/bin/ls")
	ext := l.Extents(lsID)
	if len(ext) != 1 || ext[0].Off != 0 || ext[0].Len != 11 {
		t.Fatalf("ls extents %+v", ext)
	}
	raw := make([]byte, ext[0].Len)
	if _, err := l.Tar().ReadAt(raw, ext[0].TarOff); err != nil || string(raw) != "ls contents" {
		t.Fatalf("tar at %d holds %q (%v)", ext[0].TarOff, raw, err)
	}
	if l.Path(lsID) != "usr/bin/ls" {
		t.Errorf("Path %q", l.Path(lsID))
	}
}

func TestRootSynthesised(t *testing.T) {
	l, _, _ := create(t, newTar(t).file("a/b/c", "x").bytes())
	var root Entry
	l.Entry(Root, &root)
	if root.Kind != KindDir || root.Mode != 0o755 || root.Uid != 0 || !root.Implicit {
		t.Fatalf("root %+v", root)
	}
	for _, p := range []string{"a", "a/b"} {
		_, e := must(t, l, p)
		if e.Kind != KindDir || e.Mode != 0o755 || !e.Implicit || e.Mtime != (Timespec{}) {
			t.Errorf("%s: %+v", p, e)
		}
	}
}

func TestPAXAttributes(t *testing.T) {
	mtime := time.Unix(1600000000, 987654321)
	data := newTar(t).add(&tar.Header{
		Typeflag:   tar.TypeReg,
		Name:       "bin/ping",
		Mode:       0o755,
		Uid:        3000000000, // over 2^31: PAX
		Gid:        70000,
		ModTime:    mtime,
		AccessTime: time.Unix(1600000001, 5),
		ChangeTime: time.Unix(1600000002, 6),
		Format:     tar.FormatPAX,
		PAXRecords: map[string]string{
			"SCHILY.xattr.security.capability": "\x01\x00\x00\x02\x00\x20\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00",
			"SCHILY.xattr.user.empty":          "",
			"SCHILY.xattr.user.comment":        "hi",
		},
	}, "ping").bytes()
	l, _, _ := create(t, data)
	id, e := must(t, l, "bin/ping")
	if e.Uid != 3000000000 || e.Gid != 70000 {
		t.Errorf("ids %d %d", e.Uid, e.Gid)
	}
	if e.Mtime != (Timespec{1600000000, 987654321}) || e.Atime != (Timespec{1600000001, 5}) || e.Ctime != (Timespec{1600000002, 6}) {
		t.Errorf("times %+v %+v %+v", e.Mtime, e.Atime, e.Ctime)
	}
	var got []string
	l.Xattrs(id, func(name string, value []byte) { got = append(got, fmt.Sprintf("%s=%q", name, value)) })
	want := []string{
		`security.capability="\x01\x00\x00\x02\x00 \x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"`,
		`user.comment="hi"`,
		`user.empty=""`,
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("xattrs %v, want %v", got, want)
	}
}

func TestCompressedInput(t *testing.T) {
	data := newTar(t).file("a", "hello").file("b/c", "world").bytes()
	_, plain, _ := create(t, data)
	for name, compressed := range map[string][]byte{"gzip": gzipBytes(t, data), "zstd": zstdBytes(t, data)} {
		t.Run(name, func(t *testing.T) {
			l, info, _ := create(t, compressed, WithDiffID(plain.DiffID))
			if info.DiffID != plain.DiffID || info.Size != int64(len(data)) {
				t.Fatalf("info %+v, want %+v", info, plain)
			}
			if got := content(t, l, "b/c"); got != "world" {
				t.Fatalf("b/c = %q", got)
			}
		})
	}
}

func TestDigestMismatch(t *testing.T) {
	data := newTar(t).file("a", "hello").bytes()
	dir := t.TempDir()
	wrong := fmt.Sprintf("sha256:%x", sha256.Sum256([]byte("other")))
	_, err := Create(context.Background(), bytes.NewReader(data), dir, WithDiffID(wrong))
	if !errors.Is(err, ErrDigestMismatch) {
		t.Fatalf("err %v, want ErrDigestMismatch", err)
	}
	if got := dirEntries(t, dir); len(got) != 0 {
		t.Fatalf("left behind %v", got)
	}
	for _, bad := range []string{"", "sha256:", "sha512:" + fmt.Sprintf("%064x", 1), "sha256:" + fmt.Sprintf("%063x", 1), "sha256:" + fmt.Sprintf("%064X", 255), "sha256:" + fmt.Sprintf("%063xg", 1)} {
		if _, err := Create(context.Background(), bytes.NewReader(data), dir, WithDiffID(bad)); err == nil {
			t.Errorf("WithDiffID(%q) accepted", bad)
		}
	}
	if got := dirEntries(t, dir); len(got) != 0 {
		t.Fatalf("left behind %v", got)
	}
}

func TestTrailingGarbage(t *testing.T) {
	data := append(newTar(t).file("a", "hello").bytes(), []byte("garbage after the end of the archive")...)
	l, info, dir := create(t, data)
	if want := fmt.Sprintf("sha256:%x", sha256.Sum256(data)); info.DiffID != want || info.Size != int64(len(data)) {
		t.Fatalf("info %+v, want DiffID %s over %d bytes", info, want, len(data))
	}
	stored, _ := os.ReadFile(filepath.Join(dir, info.DiffID[7:]+".tar"))
	if !bytes.Equal(stored, data) {
		t.Fatal("stored tar lacks the trailing bytes")
	}
	if got := content(t, l, "a"); got != "hello" {
		t.Fatalf("a = %q", got)
	}
}

func TestEmptyStreams(t *testing.T) {
	for name, data := range map[string][]byte{
		"nothing":    nil,
		"end blocks": make([]byte, 1024),
		"one record": make([]byte, 10240),
	} {
		t.Run(name, func(t *testing.T) {
			l, info, _ := create(t, data)
			if l.Len() != 1 || info.Entries != 1 {
				t.Fatalf("%d entries, want the root only", l.Len())
			}
		})
	}
}

func TestTruncatedTar(t *testing.T) {
	data := newTar(t).file("a", string(bytes.Repeat([]byte("x"), 2000))).file("b", "tail").bytes()
	// Cut inside the first header, inside a's data, inside b's header and
	// inside b's data; a clean cut at an entry boundary is a tar without its
	// end blocks, which archive/tar (and extraction) accept.
	for _, cut := range []int{100, 511, 600, 2000, 2560 + 100, 2560 + 512 + 2} {
		t.Run(fmt.Sprint(cut), func(t *testing.T) {
			dir := t.TempDir()
			_, err := Create(context.Background(), bytes.NewReader(data[:cut]), dir)
			if err == nil {
				t.Fatalf("cut at %d accepted", cut)
			}
			if got := dirEntries(t, dir); len(got) != 0 {
				t.Fatalf("left behind %v", got)
			}
		})
	}
}

func TestCorruptCompressedStream(t *testing.T) {
	data := newTar(t).file("a", string(bytes.Repeat([]byte("abc"), 5000))).bytes()
	gz := gzipBytes(t, data)
	gz[len(gz)-6] ^= 0xff // the CRC in the trailer
	dir := t.TempDir()
	if _, err := Create(context.Background(), bytes.NewReader(gz), dir); err == nil {
		t.Fatal("gzip with a bad CRC accepted")
	}
	zs := zstdBytes(t, data)
	if _, err := Create(context.Background(), bytes.NewReader(zs[:len(zs)-3]), dir); err == nil {
		t.Fatal("truncated zstd accepted")
	}
	if got := dirEntries(t, dir); len(got) != 0 {
		t.Fatalf("left behind %v", got)
	}
}

func TestContextCancel(t *testing.T) {
	data := newTar(t).file("a", "x").bytes()
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Create(ctx, bytes.NewReader(data), dir)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
	// Cancelled mid-stream: the reader cancels after the first chunk.
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	big := newTar(t).file("big", string(make([]byte, 3*chunkSize))).bytes()
	r := &cancelAfter{r: bytes.NewReader(big), n: chunkSize, cancel: cancel}
	_, err = Create(ctx, r, dir)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
	if got := dirEntries(t, dir); len(got) != 0 {
		t.Fatalf("left behind %v", got)
	}
}

// cancelAfter cancels a context once n bytes have been read.
type cancelAfter struct {
	r      io.Reader
	n      int
	cancel func()
}

func (c *cancelAfter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n -= n
	if c.n <= 0 {
		c.cancel()
	}
	return n, err
}

func TestSourceError(t *testing.T) {
	dir := t.TempDir()
	boom := errors.New("network went away")
	r := io.MultiReader(bytes.NewReader(newTar(t).file("a", "x").bytes()[:700]), &errReader{boom})
	if _, err := Create(context.Background(), r, dir); !errors.Is(err, boom) {
		t.Fatalf("err %v, want %v", err, boom)
	}
	if got := dirEntries(t, dir); len(got) != 0 {
		t.Fatalf("left behind %v", got)
	}
}

type errReader struct{ err error }

func (e *errReader) Read([]byte) (int, error) { return 0, e.err }

func TestCreateIdempotent(t *testing.T) {
	data := newTar(t).file("a", "x").bytes()
	dir := t.TempDir()
	for range 2 {
		if _, err := Create(context.Background(), bytes.NewReader(data), dir); err != nil {
			t.Fatal(err)
		}
	}
	if got := dirEntries(t, dir); len(got) != 2 {
		t.Fatalf("dir holds %v", got)
	}
}

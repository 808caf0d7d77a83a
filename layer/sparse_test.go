package layer

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// needTar returns GNU tar's path, or skips (fails under NOOK_TEST_STRICT=1)
// when the machine has none.
func needTar(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("tar")
	if err == nil {
		out, verr := exec.Command(p, "--version").Output()
		if verr == nil && bytes.Contains(out, []byte("GNU tar")) {
			return p
		}
		err = verr
		if err == nil {
			err = os.ErrNotExist
		}
	}
	if os.Getenv("NOOK_TEST_STRICT") == "1" {
		t.Fatalf("GNU tar needed: %v", err)
	}
	t.Skipf("GNU tar needed: %v", err)
	return ""
}

// sparseFile makes a file of size bytes that holds data only at the given
// offsets (each run is its length in bytes of a repeating pattern).
func sparseFile(t testing.TB, path string, size int64, runs map[int64]int) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	for off, n := range runs {
		buf := make([]byte, n)
		for i := range buf {
			buf[i] = byte('a' + (off+int64(i))%23)
		}
		if _, err := f.WriteAt(buf, off); err != nil {
			t.Fatal(err)
		}
	}
}

// gnuTar archives names under dir with GNU tar and the given options.
func gnuTar(t testing.TB, dir string, args []string, names ...string) []byte {
	t.Helper()
	tarBin := needTar(t)
	cmd := exec.Command(tarBin, append(append([]string{"-C", dir, "-cf", "-"}, args...), names...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tar %v: %v: %s", args, err, stderr.String())
	}
	return out
}

var sparseFormats = map[string][]string{
	"gnu":       {"--format=gnu", "--sparse"},
	"posix-0.0": {"--format=posix", "--sparse-version=0.0"},
	"posix-0.1": {"--format=posix", "--sparse-version=0.1"},
	"posix-1.0": {"--format=posix", "--sparse-version=1.0"},
}

func TestSparseGNUTar(t *testing.T) {
	src := t.TempDir()
	const mib = 1 << 20
	sparseFile(t, filepath.Join(src, "holes"), 10*mib, map[int64]int{0: 4096, mib: 8192, 5 * mib: 100})
	sparseFile(t, filepath.Join(src, "dataend"), 3*mib, map[int64]int{3*mib - 4096: 4096})
	many := map[int64]int{}
	for i := range int64(50) { // more fragments than the old GNU header and one extension block hold
		many[i*64*1024] = 512
	}
	sparseFile(t, filepath.Join(src, "many"), 50*64*1024, many)
	sparseFile(t, filepath.Join(src, "allhole"), mib, nil)
	long := strings.Repeat("long-name-", 15)
	sparseFile(t, filepath.Join(src, long), 2*mib, map[int64]int{mib: 1000})
	if err := os.WriteFile(filepath.Join(src, "dense"), []byte("plain file after the sparse ones"), 0o644); err != nil {
		t.Fatal(err)
	}
	names := []string{"holes", "dataend", "many", "allhole", long, "dense"}
	for name, args := range sparseFormats {
		t.Run(name, func(t *testing.T) {
			l, _, _ := create(t, gnuTar(t, src, args, names...))
			for _, n := range names {
				want, err := os.ReadFile(filepath.Join(src, n))
				if err != nil {
					t.Fatal(err)
				}
				id, e := must(t, l, n)
				if e.Size != int64(len(want)) {
					t.Errorf("%.20s: size %d, want %d", n, e.Size, len(want))
				}
				if got := content(t, l, n); got != string(want) {
					t.Errorf("%.20s: content differs", n)
				}
				checkExtentsCoverData(t, l, id, want)
				if n != "dense" && !e.Sparse {
					t.Errorf("%.20s: not sparse", n)
				}
			}
			_, e := must(t, l, "many")
			id, _ := must(t, l, "many")
			if got := len(l.Extents(id)); got < 50 || !e.Sparse {
				t.Errorf("many: %d extents", got)
			}
			id, _ = must(t, l, "allhole")
			if got := l.Extents(id); len(got) != 0 {
				t.Errorf("allhole: extents %v", got)
			}
		})
	}
}

// checkExtentsCoverData checks that the extents hold every non-zero byte of
// want, that their bytes in the tar are want's, and that reads at odd
// offsets and lengths across extent edges agree with want.
func checkExtentsCoverData(t *testing.T, l *Layer, id ID, want []byte) {
	t.Helper()
	covered := make([]bool, len(want))
	for _, x := range l.Extents(id) {
		raw := make([]byte, x.Len)
		if _, err := l.Tar().ReadAt(raw, x.TarOff); err != nil {
			t.Fatalf("extent %+v: %v", x, err)
		}
		if !bytes.Equal(raw, want[x.Off:x.Off+x.Len]) {
			t.Fatalf("extent %+v holds other bytes", x)
		}
		for i := x.Off; i < x.Off+x.Len; i++ {
			covered[i] = true
		}
	}
	for i, c := range want {
		if c != 0 && !covered[i] {
			t.Fatalf("byte %d (%q) outside every extent", i, c)
		}
	}
	for _, x := range l.Extents(id) {
		for _, off := range []int64{x.Off - 3, x.Off + x.Len - 5} {
			if off < 0 {
				continue
			}
			buf := make([]byte, 4099)
			n, err := l.ReadAt(id, buf, off)
			end := min(off+int64(len(buf)), int64(len(want)))
			if int64(n) != end-off || (err != nil && err != io.EOF) || !bytes.Equal(buf[:n], want[off:end]) {
				t.Fatalf("ReadAt(%d) = %d, %v; differs from the file", off, n, err)
			}
		}
	}
}

func TestSparseOver4GiB(t *testing.T) {
	src := t.TempDir()
	const gib = int64(1) << 30
	sparseFile(t, filepath.Join(src, "big5"), 5*gib, map[int64]int{0: 4096, 4*gib + 1: 5000, 5*gib - 4096: 4096})
	sparseFile(t, filepath.Join(src, "big9"), 9*gib, map[int64]int{8*gib + 4096: 4096}) // over 8 GiB: base-256 or PAX sizes
	for name, args := range sparseFormats {
		t.Run(name, func(t *testing.T) {
			data := gnuTar(t, src, args, "big5", "big9")
			if len(data) > 1<<20 {
				t.Fatalf("tar of %d bytes: not sparse", len(data))
			}
			l, _, _ := create(t, data)
			for n, size := range map[string]int64{"big5": 5 * gib, "big9": 9 * gib} {
				id, e := must(t, l, n)
				if e.Size != size || !e.Sparse {
					t.Fatalf("%s: %+v", n, e)
				}
				f, err := os.Open(filepath.Join(src, n))
				if err != nil {
					t.Fatal(err)
				}
				for _, x := range l.Extents(id) {
					for _, off := range []int64{x.Off - 100, x.Off, x.Off + x.Len - 10} {
						off = max(off, 0)
						got, want := make([]byte, 200), make([]byte, 200)
						n1, err1 := l.ReadAt(id, got, off)
						n2, _ := f.ReadAt(want, off)
						if n1 != n2 || !bytes.Equal(got[:n1], want[:n2]) || (err1 != nil && err1 != io.EOF) {
							t.Fatalf("%s at %d: %d %v, want %d bytes", n, off, n1, err1, n2)
						}
					}
				}
				f.Close()
				last := make([]byte, 10)
				if got, err := l.ReadAt(id, last, size-4); got != 4 || err != io.EOF {
					t.Fatalf("%s: read at end = %d, %v", n, got, err)
				}
			}
		})
	}
}

// TestDataBeyond4GiBInTar places a file's data past 4 GiB in the tar (as a
// big layer has it) without writing gigabytes: the index is built directly
// and the tar is a sparse file of the right size.
func TestDataBeyond4GiBInTar(t *testing.T) {
	const at = int64(5) << 30
	b := newBuilder(maxEntries)
	b.exts = append(b.exts, Extent{Off: 0, TarOff: at, Len: 5}, Extent{Off: 6 << 30, TarOff: at + 5, Len: 3})
	for _, e := range []tarEntry{
		{path: "small", kind: KindReg, in: inode{mode: 0o644, size: 5, extOff: 0, extN: 1}},
		{path: "sparse", kind: KindReg, in: inode{mode: 0o644, size: 7 << 30, extOff: 1, extN: 1, sparse: true}},
	} {
		if err := b.add(&e); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	tarPath, idxPath := filepath.Join(dir, "x.tar"), filepath.Join(dir, "x.idx")
	f, err := os.Create(tarPath)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("hellobye"), at); err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(at + 1024); err != nil {
		t.Fatal(err)
	}
	f.Close()
	idx, err := b.encode(at+1024, make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(idxPath, idx, 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := OpenFiles(tarPath, idxPath)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if got := content(t, l, "small"); got != "hello" {
		t.Fatalf("small = %q", got)
	}
	id, _ := must(t, l, "sparse")
	buf := make([]byte, 6)
	if n, err := l.ReadAt(id, buf, 6<<30-2); n != 6 || err != nil || string(buf) != "\x00\x00bye\x00" {
		t.Fatalf("sparse at 6 GiB: %d %v %q", n, err, buf)
	}
	if x := l.Extents(id); len(x) != 1 || x[0].TarOff != at+5 {
		t.Fatalf("extents %+v", x)
	}
}

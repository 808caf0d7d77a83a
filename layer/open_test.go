package layer

import (
	"archive/tar"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// sampleLayer has a bit of everything: dirs, files, links, xattrs, a
// whiteout and an opaque dir.
func sampleLayer(t testing.TB) []byte {
	return newTar(t).
		dir("etc", 0o755).
		add(&tar.Header{Typeflag: tar.TypeReg, Name: "etc/passwd", Mode: 0o644, PAXRecords: map[string]string{"SCHILY.xattr.user.x": "y"}}, "root:x:0:0\n").
		link("etc/passwd-", "etc/passwd").
		symlink("etc/localtime", "/usr/share/zoneinfo/UTC").
		file("usr/bin/true", strings.Repeat("\x7fELF", 300)).
		file("usr/.wh.games", "").
		file("var/cache/.wh..wh..opq", "").
		bytes()
}

func pairPaths(dir, diffID string) (tarPath, idxPath string) {
	base := filepath.Join(dir, diffID[len("sha256:"):])
	return base + ".tar", base + ".idx"
}

func TestOpenCorruptIndex(t *testing.T) {
	_, info, dir := create(t, sampleLayer(t))
	tarPath, idxPath := pairPaths(dir, info.DiffID)
	good, err := os.ReadFile(idxPath)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "x.idx")
	try := func(what string, idx []byte) {
		t.Helper()
		if err := os.WriteFile(p, idx, 0o644); err != nil {
			t.Fatal(err)
		}
		l, err := OpenFiles(tarPath, p)
		if err == nil {
			l.Close()
			t.Fatalf("%s: opened", what)
		}
		if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("%s: %v, want ErrCorrupt", what, err)
		}
	}
	// Every single-byte flip is caught (by the checksum if by nothing else).
	for i := range good {
		bad := append([]byte(nil), good...)
		bad[i] ^= 0x5a
		try(fmt.Sprintf("flip at %d", i), bad)
	}
	// Every cut.
	for n := 0; n < len(good); n++ {
		if n == 0 {
			continue // an empty file is refused before mapping; see below
		}
		try(fmt.Sprintf("cut to %d", n), good[:n])
	}
	try("empty", nil)
	try("grown", append(append([]byte(nil), good...), 0))
}

func TestOpenCorruptIndexResealed(t *testing.T) {
	// Field damage with a fixed-up checksum reaches the structural checks.
	_, info, dir := create(t, sampleLayer(t))
	tarPath, idxPath := pairPaths(dir, info.DiffID)
	good, _ := os.ReadFile(idxPath)
	tf, err := os.Open(tarPath)
	if err != nil {
		t.Fatal(err)
	}
	defer tf.Close()
	rng := rand.New(rand.NewSource(1))
	opened := 0
	for i := range 20000 {
		bad := append([]byte(nil), good...)
		for range 1 + rng.Intn(3) {
			bad[hdrSize/2+rng.Intn(len(bad)-hdrSize/2)] = byte(rng.Intn(256))
		}
		if i%5 == 0 {
			bad[rng.Intn(hdrSize)] ^= byte(1 << rng.Intn(8))
		}
		reseal(bad)
		l, err := openMem(tf, bad)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("case %d: %v, want ErrCorrupt", i, err)
			}
			continue
		}
		opened++
		// Damage to names, modes or times that the checks cannot tell
		// from real data still opens; the layer must stay consistent.
		if err := checkLayer(l); err != nil {
			t.Fatalf("case %d opened inconsistent: %v", i, err)
		}
	}
	t.Logf("%d of 20000 damaged indexes still opened (damage to plain data fields)", opened)
}

// reseal recomputes an index's checksum after the test damaged it.
func reseal(idx []byte) {
	if len(idx) >= hdrSize {
		le.PutUint32(idx[hCRC:], indexCRC(idx))
	}
}

// openMem is OpenFiles over an index held in memory, for damage tests that
// need many tries: the same checks, no files. Do not Close the result.
func openMem(tarFile *os.File, idx []byte) (*Layer, error) {
	if len(idx) < hdrSize {
		return nil, ErrCorrupt
	}
	l := &Layer{idx: idx}
	if err := l.parse(); err != nil {
		return nil, err
	}
	fi, err := tarFile.Stat()
	if err != nil {
		return nil, err
	}
	if fi.Size() != l.tsz {
		return nil, fmt.Errorf("tar size: %w", ErrCorrupt)
	}
	l.tar = tarFile
	return l, nil
}

func TestOpenTarMismatch(t *testing.T) {
	_, info, dir := create(t, sampleLayer(t))
	tarPath, idxPath := pairPaths(dir, info.DiffID)
	data, _ := os.ReadFile(tarPath)
	for name, tarData := range map[string][]byte{
		"truncated tar": data[:len(data)-1],
		"grown tar":     append(append([]byte(nil), data...), 0),
		"empty tar":     nil,
	} {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "x.tar")
			os.WriteFile(p, tarData, 0o644)
			if _, err := OpenFiles(p, idxPath); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("err %v, want ErrCorrupt", err)
			}
		})
	}
	if _, err := OpenFiles(filepath.Join(dir, "nope.tar"), idxPath); err == nil || errors.Is(err, ErrCorrupt) {
		t.Fatalf("missing tar: %v", err)
	}
	// A pair renamed to another digest.
	other := t.TempDir()
	wrong := "sha256:" + strings.Repeat("ab", 32)
	wt, wi := pairPaths(other, wrong)
	os.Link(tarPath, wt)
	os.Link(idxPath, wi)
	if _, err := Open(other, wrong); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("renamed pair: %v, want ErrCorrupt", err)
	}
	if _, err := Open(dir, "sha256:zz"); err == nil {
		t.Fatal("bad digest accepted")
	}
	if _, err := Open(t.TempDir(), info.DiffID); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing pair: %v", err)
	}
}

func TestReadAfterTarTruncated(t *testing.T) {
	// The tar shrinking under an open layer gives errors, not panics.
	l, info, dir := create(t, sampleLayer(t))
	tarPath, _ := pairPaths(dir, info.DiffID)
	if err := os.Truncate(tarPath, 600); err != nil {
		t.Fatal(err)
	}
	id, e := must(t, l, "usr/bin/true")
	buf := make([]byte, e.Size)
	if _, err := l.ReadAt(id, buf, 0); err == nil {
		t.Fatal("read past a truncated tar succeeded")
	}
}

func TestConcurrentReaders(t *testing.T) {
	b := newTar(t)
	for i := range 200 {
		b.file(fmt.Sprintf("d%d/f%d", i%7, i), strings.Repeat(fmt.Sprint(i), i+1))
	}
	l, _, _ := create(t, b.bytes())
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var e Entry
			buf := make([]byte, 1024)
			for k := range 2000 {
				i := (g*131 + k) % 200
				d, ok := l.Lookup(Root, fmt.Sprintf("d%d", i%7))
				if !ok {
					errs <- fmt.Errorf("d%d missing", i%7)
					return
				}
				id, ok := l.Lookup(d, fmt.Sprintf("f%d", i))
				if !ok {
					errs <- fmt.Errorf("f%d missing", i)
					return
				}
				l.Entry(id, &e)
				want := strings.Repeat(fmt.Sprint(i), i+1)
				n, _ := l.ReadAt(id, buf, 0)
				if e.Size != int64(len(want)) || string(buf[:min(n, len(want))]) != want[:min(n, len(want))] {
					errs <- fmt.Errorf("f%d: wrong data", i)
					return
				}
				first, c := l.Children(d)
				for j := range c {
					l.Entry(first+ID(j), &e)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func TestHotPathAllocs(t *testing.T) {
	l, _, _ := create(t, sampleLayer(t))
	etc, _ := lookup(l, "etc")
	name := "passwd"
	var e Entry
	for what, fn := range map[string]func(){
		"Lookup":   func() { l.Lookup(etc, name) },
		"Entry":    func() { l.Entry(etc+1, &e) },
		"Children": func() { l.Children(etc) },
		"Parent":   func() { l.Parent(etc + 1) },
		"Extents":  func() { l.Extents(etc + 1) },
		"Xattrs":   func() { l.Xattrs(etc+2, func(string, []byte) {}) },
	} {
		if n := testing.AllocsPerRun(1000, fn); n != 0 {
			t.Errorf("%s: %v allocations", what, n)
		}
	}
	id, _ := must(t, l, "usr/bin/true")
	buf := make([]byte, 100)
	if n := testing.AllocsPerRun(1000, func() { l.ReadAt(id, buf, 10) }); n != 0 {
		t.Errorf("ReadAt: %v allocations", n)
	}
}

func TestCloseTwice(t *testing.T) {
	_, info, dir := create(t, sampleLayer(t))
	l, err := Open(dir, info.DiffID)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if l.Len() != 0 {
		t.Fatal("closed layer still has entries")
	}
	if _, ok := l.Lookup(Root, "etc"); ok {
		t.Fatal("lookup after Close")
	}
}

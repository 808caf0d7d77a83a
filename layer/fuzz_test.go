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
	"strings"
	"testing"
)

// seedTars are small real tars: archive/tar's formats, GNU tar's sparse
// formats (testdata), whiteouts, links, odd raw headers, and compressed ones.
func seedTars(t testing.TB) [][]byte {
	seeds := [][]byte{
		sampleLayer(t),
		newTar(t).file("a", "x").link("b", "a").file("a", "y").dir("d", 0o700).file("d/.wh..wh..opq", "").bytes(),
		newTar(t).add(&tar.Header{Typeflag: tar.TypeReg, Name: strings.Repeat("n", 150), Format: tar.FormatGNU}, "gnu long").bytes(),
		newTar(t).add(&tar.Header{Typeflag: tar.TypeReg, Name: "p", Format: tar.FormatPAX, PAXRecords: map[string]string{"SCHILY.xattr.user.a": "b"}}, "pax").bytes(),
		newTar(t).add(&tar.Header{Typeflag: tar.TypeXGlobalHeader, PAXRecords: map[string]string{"comment": "c"}}, "").file("f", "").bytes(),
		new(rawTar).file("../x", "1").file("/y", "2").header("dev", '3', 0, "").end(),
		new(rawTar).pax("GNU.sparse.major", "1", "GNU.sparse.minor", "0", "GNU.sparse.name", "s", "GNU.sparse.realsize", "2048").
			file("s", "1\n0\n5\n"+strings.Repeat("\x00", 506)+"hello").end(),
		new(rawTar).pax("GNU.sparse.numblocks", "1", "GNU.sparse.offset", "100", "GNU.sparse.numbytes", "3", "GNU.sparse.size", "200").
			file("s", "abc").end(),
	}
	files, _ := filepath.Glob("testdata/*.tar")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		seeds = append(seeds, b)
	}
	seeds = append(seeds, gzipBytes(t, seeds[0]), zstdBytes(t, seeds[1]))
	return seeds
}

func FuzzCreate(f *testing.F) {
	for _, s := range seedTars(f) {
		f.Add(s)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		defer clearDir(t, dir)
		info, err := Create(context.Background(), bytes.NewReader(data), dir, withoutSync())
		goOK, complete, files := readWithArchiveTar(data)
		plain := !bytes.HasPrefix(data, gzipMagic) && !bytes.HasPrefix(data, zstdMagic)
		if err != nil {
			if left := dirEntries(t, dir); len(left) != 0 {
				t.Fatalf("Create failed (%v) and left %v", err, left)
			}
			if plain && goOK && !errors.Is(err, ErrLimit) {
				t.Fatalf("archive/tar reads the whole tar, Create fails: %v", err)
			}
			return
		}
		if plain && complete && !goOK {
			t.Fatalf("Create accepts a tar archive/tar fails on")
		}
		l, err := Open(dir, info.DiffID)
		if err != nil {
			t.Fatalf("Create succeeded, Open fails: %v", err)
		}
		defer l.Close()
		if err := checkLayer(l); err != nil {
			t.Fatal(err)
		}
		if plain {
			if want := fmt.Sprintf("sha256:%x", sha256.Sum256(data)); info.DiffID != want || info.Size != int64(len(data)) {
				t.Fatalf("info %+v for %d bytes, want %s", info, len(data), want)
			}
			stored, _ := os.ReadFile(filepath.Join(dir, info.DiffID[7:]+".tar"))
			if !bytes.Equal(stored, data) {
				t.Fatal("stored tar differs from the stream")
			}
		}
		// A path whose last header was a regular file and that is a
		// regular file in the layer holds that header's data.
		for p, want := range files {
			id, ok := lookup(l, p)
			if !ok {
				continue
			}
			var e Entry
			l.Entry(id, &e)
			if e.Kind != KindReg {
				continue
			}
			got := make([]byte, e.Size)
			n, err := l.ReadAt(id, got, 0)
			if (err != nil && err != io.EOF) || !bytes.Equal(got[:n], want) {
				t.Fatalf("%q: layer holds %d bytes (%v), archive/tar read %d", p, n, err, len(want))
			}
		}
	})
}

// readWithArchiveTar reads a (plain) tar through archive/tar, data included.
// ok: it read to the end without error; complete: no entry was too big to
// read whole (then ok settles whether the tar is valid); files: the data of
// each path whose last header is a regular file.
func readWithArchiveTar(data []byte) (ok, complete bool, files map[string][]byte) {
	files = map[string][]byte{}
	complete = true
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return true, complete, files
		}
		if err != nil {
			return false, complete, files
		}
		p, clean := cleanName(h.Name)
		if h.Size > 1<<20 {
			complete = false
			delete(files, p)
			continue
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			return false, complete, files
		}
		switch {
		case !clean || h.Typeflag == tar.TypeXGlobalHeader:
		case (h.Typeflag == tar.TypeReg || h.Typeflag == tar.TypeGNUSparse || h.Typeflag == tar.TypeCont) && !strings.HasPrefix(p[strings.LastIndexByte(p, '/')+1:], whPrefix):
			files[p] = b
		default:
			delete(files, p)
		}
		// A later entry may replace an ancestor; forget what is below.
		for q := range files {
			if strings.HasPrefix(q, p+"/") && h.Typeflag != tar.TypeDir {
				delete(files, q)
			}
		}
	}
}

func clearDir(t *testing.T, dir string) {
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, de := range des {
		os.Remove(filepath.Join(dir, de.Name()))
	}
}

// FuzzOpen feeds arbitrary index bytes, checksum fixed up so the structural
// checks are reached, with a tar of the size the index names.
func FuzzOpen(f *testing.F) {
	dir := f.TempDir()
	for _, s := range seedTars(f) {
		info, err := Create(context.Background(), bytes.NewReader(s), dir, withoutSync())
		if err != nil {
			f.Fatal(err)
		}
		_, idx := pairPaths(dir, info.DiffID)
		b, err := os.ReadFile(idx)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	tf, err := os.Create(filepath.Join(dir, "fuzz.tar"))
	if err != nil {
		f.Fatal(err)
	}
	defer tf.Close()
	f.Fuzz(func(t *testing.T, idx []byte) {
		idx = append([]byte(nil), idx...)
		reseal(idx)
		if len(idx) >= hdrSize {
			// Give the tar the size the index names, when that is small.
			if n := int64(le.Uint64(idx[hTarSize:])); n >= 0 && n <= 1<<20 {
				if err := tf.Truncate(n); err != nil {
					t.Fatal(err)
				}
			}
		}
		l, err := openMem(tf, idx)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		if err := checkLayer(l); err != nil {
			t.Fatal(err)
		}
		// Lookups of names that are not there, and of odd names.
		for id := ID(0); int(id) < l.Len(); id++ {
			l.Lookup(id, "")
			l.Lookup(id, "\xff\xff")
			l.Lookup(id, "a")
		}
	})
}

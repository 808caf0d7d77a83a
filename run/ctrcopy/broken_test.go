package ctrcopy

import (
	"bytes"
	"errors"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTruncatedArchive cuts a real archive at many points: each cut gives
// ErrBadArchive (or, cut inside the end-of-archive blocks, a complete
// copy), never a panic, never a temporary file left, and every file that
// is there under its real name is complete.
func TestTruncatedArchive(t *testing.T) {
	tmp := t.TempDir()
	src := mkdir(t, tmp, "src")
	want := map[string]string{
		"a":       "aaaa",
		"big":     strings.Repeat("b", 70000),
		"sub/c":   "cc",
		"sub/big": strings.Repeat("d", 5000),
	}
	for rel, c := range want {
		write(t, src, rel, c, 0o644)
	}
	b, _ := pack(t, src, PackOptions{})
	cuts := []int{0, 1, 100, 511, 512, 513}
	for n := 1024; n < len(b); n += 509 {
		cuts = append(cuts, n)
	}
	cuts = append(cuts, len(b)-1024, len(b)-1)
	for _, n := range cuts {
		dst := filepath.Join(tmp, "dst")
		err := Unpack(bytes.NewReader(b[:n]), dst, UnpackOptions{})
		if err != nil && !errors.Is(err, ErrBadArchive) {
			t.Errorf("cut at %d of %d: %v, want ErrBadArchive", n, len(b), err)
		}
		if err != nil && strings.Contains(err.Error(), "\n") {
			t.Errorf("cut at %d: error is not one line: %q", n, err)
		}
		for rel, c := range want {
			got, rerr := os.ReadFile(filepath.Join(dst, rel))
			if rerr == nil && string(got) != c {
				t.Errorf("cut at %d: %s holds %d bytes, want %d", n, rel, len(got), len(c))
			}
			if rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
				t.Fatal(rerr)
			}
		}
		noTemps(t, tmp)
		if err := os.RemoveAll(dst); err != nil {
			t.Fatal(err)
		}
	}
}

func TestGarbageArchive(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	junk := make([]byte, 4096)
	for i := range junk {
		junk[i] = byte(rng.Uint32())
	}
	for _, in := range [][]byte{junk, []byte("not a tar at all"), bytes.Repeat([]byte{0}, 300)} {
		dst := t.TempDir()
		err := Unpack(bytes.NewReader(in), dst, UnpackOptions{Src: &Info{Name: "x", IsDir: true}})
		if !errors.Is(err, ErrBadArchive) {
			t.Errorf("Unpack of %d bytes of junk: %v, want ErrBadArchive", len(in), err)
		}
		t.Logf("%v", err)
	}
	// An empty stream, or one of only end-of-archive blocks, copied
	// nothing: the caller hears so.
	dst := t.TempDir()
	for _, in := range [][]byte{nil, make([]byte, 1024), mkTar(t, &Info{Name: "x"})} {
		if err := Unpack(bytes.NewReader(in), dst, UnpackOptions{}); !errors.Is(err, ErrBadArchive) {
			t.Errorf("Unpack of an archive without entries (%d bytes): %v, want ErrBadArchive", len(in), err)
		}
	}
}

func TestOptionsConflict(t *testing.T) {
	err := Unpack(bytes.NewReader(nil), t.TempDir(), UnpackOptions{Chown: &IDs{}, KeepOwners: true})
	if !errors.Is(err, ErrOptions) {
		t.Errorf("Chown with KeepOwners: %v, want ErrOptions", err)
	}
	err = Unpack(bytes.NewReader(nil), t.TempDir(), UnpackOptions{Src: &Info{Name: "a/b"}})
	if !errors.Is(err, ErrOptions) {
		t.Errorf("Src name a/b: %v, want ErrOptions", err)
	}
}

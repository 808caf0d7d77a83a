package fuseunion

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// TestCopyRange copies spans of a file at offsets aligned like a page and
// not (a tar member's data is only 512-byte aligned), around the sizes
// where copyRange switches between copy_file_range and its buffer, and
// checks every byte.
func TestCopyRange(t *testing.T) {
	dir := t.TempDir()
	data := make([]byte, 2*copyBufferSize+3*pageSize)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	srcPath := filepath.Join(dir, "src")
	if err := os.WriteFile(srcPath, data, 0o600); err != nil {
		t.Fatal(err)
	}
	src, err := os.Open(srcPath)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	for _, c := range []struct {
		srcOff, n int64
	}{
		{0, 100},
		{512, 100},
		{512, bufferedCopyMin - 1},
		{512, bufferedCopyMin},
		{pageSize, bufferedCopyMin + 1},
		{1536, copyBufferSize + 7},
		{512, 2*copyBufferSize + 1000},
		{0, 2*copyBufferSize + 3*pageSize},
	} {
		dst, err := os.Create(filepath.Join(dir, "dst"))
		if err != nil {
			t.Fatal(err)
		}
		if err := copyRange(int(src.Fd()), c.srcOff, int(dst.Fd()), 0, c.n); err != nil {
			t.Fatalf("copy %d bytes from %d: %v", c.n, c.srcOff, err)
		}
		dst.Close()
		got, err := os.ReadFile(dst.Name())
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, data[c.srcOff:c.srcOff+c.n]) {
			t.Errorf("copy of %d bytes from %d: the copy differs (%d bytes)", c.n, c.srcOff, len(got))
		}
	}
}

package fuseunion

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// TestCopyRange copies spans of a file at offsets aligned like a page and
// not (a tar member's data is only 512-byte aligned), of sizes around
// copy_file_range's and the fallback's chunks, and checks every byte.
func TestCopyRange(t *testing.T) {
	const (
		pageSize = 4096
		mib      = 1 << 20
	)
	dir := t.TempDir()
	data := make([]byte, 9*mib+3*pageSize)
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
		{512, mib - 1},
		{512, mib},
		{pageSize, mib + 1},
		{1536, 4*mib + 7},
		{512, 9*mib + 1000},
		{0, 9*mib + 3*pageSize},
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

package ctrcopy

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkCopyTree copies a tree of 2000 4 KiB files in 40 directories
// through a buffer: Pack, then Unpack into a new directory. For scale: on
// tmpfs here it takes ~225 ms where `tar c | tar x` of the same tree
// takes 70-110 ms (two processes on two cores, and no temp name, rename
// or fstatat per file).
func BenchmarkCopyTree(b *testing.B) {
	tmp := b.TempDir()
	src := filepath.Join(tmp, "src")
	content := bytes.Repeat([]byte("x"), 4096)
	for d := range 40 {
		dir := filepath.Join(src, fmt.Sprintf("d%02d", d))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			b.Fatal(err)
		}
		for f := range 50 {
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%02d", f)), content, 0o644); err != nil {
				b.Fatal(err)
			}
		}
	}
	var buf bytes.Buffer
	b.ResetTimer()
	for i := range b.N {
		buf.Reset()
		if _, err := Pack(&buf, src, PackOptions{}); err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(buf.Len()))
		dst := filepath.Join(tmp, fmt.Sprintf("dst%d", i))
		if err := Unpack(&buf, dst, UnpackOptions{}); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if err := os.RemoveAll(dst); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}

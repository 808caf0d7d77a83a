package ctrlog

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkWriter is a workload printing 80-byte lines, copied from its
// pipe in 32 KiB reads as io.Copy does, into a log at the default caps
// (so it rotates every 10 MiB).
func BenchmarkWriter(b *testing.B) {
	for _, bc := range []struct {
		name  string
		chunk []byte
	}{
		{"lines80/write32k", bytes.Repeat(append(bytes.Repeat([]byte("x"), 79), '\n'), 32<<10/80)},
		{"lines80/write1line", append(bytes.Repeat([]byte("x"), 79), '\n')},
		{"nolines/write32k", bytes.Repeat([]byte("y"), 32<<10)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			w, _ := open(b, Options{})
			s := w.Stream(Stdout)
			b.SetBytes(int64(len(bc.chunk)))
			for b.Loop() {
				if _, err := s.Write(bc.chunk); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPlainFile is the floor BenchmarkWriter's lines80/write32k is
// measured against: the same 32 KiB writes to a plain file, truncated
// every 10 MiB, without records.
func BenchmarkPlainFile(b *testing.B) {
	f, err := os.Create(filepath.Join(b.TempDir(), "plain"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	chunk := bytes.Repeat(append(bytes.Repeat([]byte("x"), 79), '\n'), 32<<10/80)
	b.SetBytes(int64(len(chunk)))
	var n int
	for b.Loop() {
		if _, err := f.Write(chunk); err != nil {
			b.Fatal(err)
		}
		if n += len(chunk); n > DefaultMaxSize {
			if err := f.Truncate(0); err != nil {
				b.Fatal(err)
			}
			f.Seek(0, 0)
			n = 0
		}
	}
}

// BenchmarkRead reads back a full default-sized log (two 10 MiB files of
// 80-byte lines).
func BenchmarkRead(b *testing.B) {
	w, dir := open(b, Options{})
	chunk := bytes.Repeat(append(bytes.Repeat([]byte("x"), 79), '\n'), 32<<10/80)
	// Records of 80-byte lines are half as long again: stop short of
	// the third file.
	for n := int64(0); n < 2*DefaultMaxSize*9/10; n += int64(len(chunk)) * 3 / 2 {
		if _, err := w.Stream(Stdout).Write(chunk); err != nil {
			b.Fatal(err)
		}
	}
	total, files := logSize(b, dir)
	b.Logf("%d bytes in %d files", total, files)
	b.SetBytes(total)
	for b.Loop() {
		var out countWriter
		if err := Read(b.Context(), dir, ReadOptions{Tail: -1}, &out, nil); err != nil {
			b.Fatal(err)
		}
	}
}

type countWriter int64

func (c *countWriter) Write(p []byte) (int, error) { *c += countWriter(len(p)); return len(p), nil }

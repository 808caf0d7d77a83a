package layer

import (
	"archive/tar"
	"bufio"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// cpuTime is the process's user+system CPU time. Benchmarks report it per
// op beside wall time: on a shared machine wall time mostly measures the
// neighbours, CPU time what the work costs.
func cpuTime(b *testing.B) time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports CPU milliseconds per op since start, counting setup
// done with the timer stopped as well (it is small next to the work).
func reportCPU(b *testing.B, start time.Duration, ops int) {
	b.ReportMetric(float64(cpuTime(b)-start)/float64(time.Millisecond)/float64(ops), "cpu-ms/op")
}

// benchTar writes a ~100 MB layer of many small files (as a language
// runtime or a distribution's /usr has): 500 directories, 25,000 files of
// 0-8 KiB, some symlinks and hardlinks. It returns the path and size.
func benchTar(b *testing.B) (string, int64) {
	b.Helper()
	p := filepath.Join(b.TempDir(), "bench.tar")
	f, err := os.Create(p)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	w := bufio.NewWriter(f)
	tw := tar.NewWriter(w)
	rng := rand.New(rand.NewSource(1))
	data := make([]byte, 8192)
	rng.Read(data)
	for d := range 500 {
		dir := fmt.Sprintf("usr/lib/pkg%03d/sub%d", d, d%7)
		tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: dir + "/", Mode: 0o755, ModTime: testTime})
		for i := range 50 {
			name := fmt.Sprintf("%s/file%02d.py", dir, i)
			size := rng.Intn(8193)
			tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: int64(size), ModTime: testTime})
			tw.Write(data[:size])
			if i%10 == 0 {
				tw.WriteHeader(&tar.Header{Typeflag: tar.TypeSymlink, Name: name + ".lnk", Linkname: fmt.Sprintf("file%02d.py", i), ModTime: testTime})
			}
			if i%25 == 0 {
				tw.WriteHeader(&tar.Header{Typeflag: tar.TypeLink, Name: name + ".hard", Linkname: name, ModTime: testTime})
			}
		}
	}
	if err := tw.Close(); err != nil {
		b.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	fi, _ := f.Stat()
	return p, fi.Size()
}

// compressed writes the tar compressed next to it.
func compressed(b *testing.B, p, kind string) string {
	raw, err := os.ReadFile(p)
	if err != nil {
		b.Fatal(err)
	}
	var out []byte
	switch kind {
	case "gzip":
		out = gzipBytes(b, raw)
	case "zstd":
		out = zstdBytes(b, raw)
	}
	q := p + "." + kind
	if err := os.WriteFile(q, out, 0o644); err != nil {
		b.Fatal(err)
	}
	return q
}

// BenchmarkCreate indexes the layer; its MB/s are of the uncompressed tar,
// to set beside BenchmarkReadHash (reading and hashing the stream alone) and
// BenchmarkTarExtract (unpacking it with GNU tar, what nook avoids).
func BenchmarkCreate(b *testing.B) {
	p, size := benchTar(b)
	inputs := map[string]string{"plain": p, "gzip": compressed(b, p, "gzip"), "zstd": compressed(b, p, "zstd")}
	for _, name := range []string{"plain", "plain-nosync", "gzip", "zstd"} {
		in := inputs[name]
		var opts []Option
		if name == "plain-nosync" {
			in, opts = p, []Option{withoutSync()}
		}
		b.Run(name, func(b *testing.B) {
			b.SetBytes(size)
			cpu, ops := cpuTime(b), 0
			for b.Loop() {
				ops++
				dir := b.TempDir()
				f, err := os.Open(in)
				if err != nil {
					b.Fatal(err)
				}
				info, err := Create(context.Background(), f, dir, opts...)
				f.Close()
				if err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				if info.Size != size {
					b.Fatalf("size %d, want %d", info.Size, size)
				}
				b.ReportMetric(float64(info.Entries), "entries")
				os.RemoveAll(dir)
				b.StartTimer()
			}
			reportCPU(b, cpu, ops)
		})
	}
}

func BenchmarkReadHash(b *testing.B) {
	p, size := benchTar(b)
	b.SetBytes(size)
	cpu, ops := cpuTime(b), 0
	for b.Loop() {
		ops++
		f, err := os.Open(p)
		if err != nil {
			b.Fatal(err)
		}
		h := sha256.New()
		io.Copy(h, f)
		f.Close()
	}
	reportCPU(b, cpu, ops)
}

// BenchmarkReadHashWrite is the floor for storing a layer: read, hash and
// write the copy, with no parsing.
func BenchmarkReadHashWrite(b *testing.B) {
	p, size := benchTar(b)
	b.SetBytes(size)
	cpu, ops := cpuTime(b), 0
	buf := make([]byte, chunkSize)
	for b.Loop() {
		ops++
		f, err := os.Open(p)
		if err != nil {
			b.Fatal(err)
		}
		out, err := os.Create(filepath.Join(b.TempDir(), "copy"))
		if err != nil {
			b.Fatal(err)
		}
		h := sha256.New()
		if _, err := io.CopyBuffer(io.MultiWriter(h, out), f, buf); err != nil {
			b.Fatal(err)
		}
		f.Close()
		out.Close()
		b.StopTimer()
		os.Remove(out.Name())
		b.StartTimer()
	}
	reportCPU(b, cpu, ops)
}

func BenchmarkTarExtract(b *testing.B) {
	tarBin := needTar(b)
	p, size := benchTar(b)
	gz := compressed(b, p, "gzip")
	for name, args := range map[string][]string{"plain": {"-xf", p}, "gzip": {"-xzf", gz}} {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(size)
			var cpu time.Duration
			ops := 0
			for b.Loop() {
				ops++
				dir := b.TempDir()
				cmd := exec.Command(tarBin, append(args, "-C", dir)...)
				if out, err := cmd.CombinedOutput(); err != nil {
					b.Fatalf("tar: %v: %s", err, out)
				}
				cpu += cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
				b.StopTimer()
				os.RemoveAll(dir)
				b.StartTimer()
			}
			b.ReportMetric(float64(cpu)/float64(time.Millisecond)/float64(ops), "cpu-ms/op")
		})
	}
}

// The FUSE hot path, on the same layer.
func BenchmarkHotPath(b *testing.B) {
	p, _ := benchTar(b)
	dir := b.TempDir()
	f, _ := os.Open(p)
	info, err := Create(context.Background(), f, dir)
	f.Close()
	if err != nil {
		b.Fatal(err)
	}
	l, err := Open(dir, info.DiffID)
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	d, _ := lookup(l, "usr/lib/pkg250/sub5")
	id, _ := l.Lookup(d, "file37.py")
	b.Run("Lookup", func(b *testing.B) {
		for b.Loop() {
			l.Lookup(d, "file37.py")
		}
	})
	b.Run("Entry", func(b *testing.B) {
		var e Entry
		for b.Loop() {
			l.Entry(id, &e)
		}
	})
	b.Run("Readdir", func(b *testing.B) {
		var e Entry
		for b.Loop() {
			first, n := l.Children(d)
			for i := range n {
				l.Entry(first+ID(i), &e)
			}
		}
	})
	b.Run("ReadAt4K", func(b *testing.B) {
		buf := make([]byte, 4096)
		b.SetBytes(4096)
		for b.Loop() {
			l.ReadAt(id, buf, 0)
		}
	})
	b.Run("Open", func(b *testing.B) {
		for b.Loop() {
			l, err := Open(dir, info.DiffID)
			if err != nil {
				b.Fatal(err)
			}
			l.Close()
		}
	})
}

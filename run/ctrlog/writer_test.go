package ctrlog

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestRoundTripBothStreams(t *testing.T) {
	w, dir := open(t, Options{})
	write(t, w, Stdout, "one\ntwo\n")
	write(t, w, Stderr, "oops\n")
	write(t, w, Stdout, "\nthree\n")
	write(t, w, Stderr, "again\n")
	out, errs := readAll(t, dir, ReadOptions{Tail: -1})
	if out != "one\ntwo\n\nthree\n" || errs != "oops\nagain\n" {
		t.Fatalf("read %q and %q", out, errs)
	}
	// One writer for both keeps the order they were written in.
	var both bytes.Buffer
	if err := Read(t.Context(), dir, ReadOptions{Tail: -1}, &both, &both); err != nil {
		t.Fatal(err)
	}
	if got := both.String(); got != "one\ntwo\noops\n\nthree\nagain\n" {
		t.Fatalf("both streams to one writer: %q", got)
	}
	// A nil writer drops its stream.
	var only bytes.Buffer
	if err := Read(t.Context(), dir, ReadOptions{Tail: -1}, nil, &only); err != nil || only.String() != "oops\nagain\n" {
		t.Fatalf("stderr only: %q, %v", only.String(), err)
	}
	lines := rawLines(t, dir, FileName)
	if len(lines) != 6 || !strings.HasSuffix(lines[0], " stdout F one") || !strings.HasSuffix(lines[2], " stderr F oops") ||
		!strings.HasSuffix(lines[3], " stdout F ") {
		t.Fatalf("records: %q", lines)
	}
}

func TestPartialLines(t *testing.T) {
	w, dir := open(t, Options{})
	write(t, w, Stdout, "Password: ")
	write(t, w, Stderr, "warning\n")
	write(t, w, Stdout, "secret\nlast without newline")
	lines := rawLines(t, dir, FileName)
	var tags []string
	for _, l := range lines {
		f := strings.SplitN(l, " ", 4)
		tags = append(tags, f[1]+" "+f[2]+" "+f[3])
	}
	want := []string{"stdout P Password: ", "stderr F warning", "stdout F secret", "stdout P last without newline"}
	if fmt.Sprint(tags) != fmt.Sprint(want) {
		t.Fatalf("records %q, want %q", tags, want)
	}
	out, errs := readAll(t, dir, ReadOptions{Tail: -1})
	if out != "Password: secret\nlast without newline" || errs != "warning\n" {
		t.Fatalf("read %q and %q", out, errs)
	}
	// A line is one line for -t and for --tail, however many records.
	out, errs = readAll(t, dir, ReadOptions{Tail: 3, Timestamps: true})
	if n := strings.Count(out, "Z "); n != 2 || !strings.Contains(out, "Z Password: secret\n") || !strings.HasSuffix(errs, "Z warning\n") {
		t.Fatalf("--tail 3 -t: %q and %q", out, errs)
	}
	out, errs = readAll(t, dir, ReadOptions{Tail: 2})
	if out != "last without newline" || errs != "warning\n" {
		t.Fatalf("--tail 2: %q and %q", out, errs)
	}
}

func TestLongLine(t *testing.T) {
	w, dir := open(t, Options{})
	long := strings.Repeat("0123456789abcdef", 2*MaxChunk/16+100) // 2 chunks and a bit
	exact := strings.Repeat("x", 2*MaxChunk)
	write(t, w, Stdout, long+"\n"+exact+"\nshort\n")
	var shape []string
	for _, l := range rawLines(t, dir, FileName) {
		f := strings.SplitN(l, " ", 4)
		shape = append(shape, fmt.Sprintf("%s%d", f[2], len(f[3])))
	}
	want := fmt.Sprint([]string{"P16384", "P16384", "F1600", "P16384", "F16384", "F5"})
	if fmt.Sprint(shape) != want {
		t.Fatalf("records %v, want %v", shape, want)
	}
	out, _ := readAll(t, dir, ReadOptions{Tail: -1})
	if out != long+"\n"+exact+"\nshort\n" {
		t.Fatalf("read back %d bytes, want %d", len(out), len(long)+len(exact)+8)
	}
}

func TestBinaryPassesUnchanged(t *testing.T) {
	w, dir := open(t, Options{})
	rng := rand.New(rand.NewPCG(1, 2))
	data := make([]byte, 1<<20)
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	// Some runs without a newline longer than a chunk, and \r, NUL, bytes
	// that are not UTF-8 everywhere.
	for i := 0; i < len(data); i += 1 + rng.IntN(3*MaxChunk) {
		data[i] = '\n'
	}
	for rest := data; len(rest) > 0; {
		n := min(len(rest), 1+rng.IntN(40000))
		if _, err := w.Stream(Stderr).Write(rest[:n]); err != nil {
			t.Fatal(err)
		}
		rest = rest[n:]
	}
	var errb bytes.Buffer
	if err := Read(t.Context(), dir, ReadOptions{Tail: -1}, nil, &errb); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(errb.Bytes(), data) {
		t.Fatalf("read back %d bytes, different from the %d written", errb.Len(), len(data))
	}
}

func TestConcurrentStreams(t *testing.T) {
	w, dir := open(t, Options{MaxSize: 256 << 10, MaxFiles: 50})
	var want [2]bytes.Buffer
	var wg sync.WaitGroup
	for i, name := range streamNames {
		wg.Go(func() {
			s := w.Stream(name)
			for j := range 3000 {
				p := fmt.Appendf(nil, "%s line %d %s", name, j, strings.Repeat("=", j%97))
				if j%5 != 0 {
					p = append(p, '\n')
				}
				if j%500 == 0 {
					p = append(p, bytes.Repeat([]byte{'L'}, MaxChunk+j)...)
				}
				want[i].Write(p)
				if _, err := s.Write(p); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	// Every line of every file is a whole record.
	l, err := list(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range l {
		for _, line := range rawLines(t, dir, e.name) {
			if _, ok := parseRecord([]byte(line)); !ok {
				t.Fatalf("%s: not a record: %q", e.name, tailOf(line))
			}
		}
	}
	out, errs := readAll(t, dir, ReadOptions{Tail: -1})
	if out != want[0].String() || errs != want[1].String() {
		t.Fatalf("streams read back as %d and %d bytes, want %d and %d", len(out), len(errs), want[0].Len(), want[1].Len())
	}
}

func TestRotationCapsDiskUse(t *testing.T) {
	opts := Options{MaxSize: 64 << 10, MaxFiles: 3}
	w, dir := open(t, opts)
	const maxRecord = len(TimeFormat) + len(" stdout P ") + MaxChunk + 1
	bound := opts.MaxSize*int64(opts.MaxFiles) + int64(maxRecord)
	rng := rand.New(rand.NewPCG(3, 4))
	var written bytes.Buffer
	for i := range 2000 {
		p := fmt.Appendf(nil, "%d %s", i, strings.Repeat("y", rng.IntN(100)))
		if i%50 == 0 {
			p = append(p, bytes.Repeat([]byte{'z'}, rng.IntN(40000))...)
		}
		p = append(p, '\n')
		written.Write(p)
		if _, err := w.Stream(Stdout).Write(p); err != nil {
			t.Fatal(err)
		}
		if total, n := logSize(t, dir); total > bound || n > opts.MaxFiles {
			t.Fatalf("after %d writes: %d files of %d bytes, cap %d files and %d bytes", i+1, n, total, opts.MaxFiles, bound)
		}
	}
	total, n := logSize(t, dir)
	if n != opts.MaxFiles || written.Len() < int(bound) {
		t.Fatalf("%d files, %d bytes written: the test did not rotate", n, written.Len())
	}
	t.Logf("%d bytes written, %d kept in %d files", written.Len(), total, n)
	// What is left is the end of what was written, rotated files first.
	out, _ := readAll(t, dir, ReadOptions{Tail: -1})
	if len(out) < int(opts.MaxSize) || !strings.HasSuffix(written.String(), out) {
		t.Fatalf("read %d bytes, not the end of what was written", len(out))
	}
}

func TestMaxFilesOne(t *testing.T) {
	w, dir := open(t, Options{MaxSize: 1000, MaxFiles: 1})
	for i := range 100 {
		write(t, w, Stdout, fmt.Sprintf("line %d\n", i))
	}
	if total, n := logSize(t, dir); n != 1 || total > 1000 {
		t.Fatalf("%d files of %d bytes", n, total)
	}
	out, _ := readAll(t, dir, ReadOptions{Tail: 1})
	if out != "line 99\n" {
		t.Fatalf("last line %q", out)
	}
}

func TestReopenAppendsAndDropsTornLine(t *testing.T) {
	w, dir := open(t, Options{MaxFiles: 3})
	write(t, w, Stdout, "before\n")
	w.Close()
	if _, err := w.Stream(Stdout).Write([]byte("x\n")); !errors.Is(err, ErrClosed) {
		t.Fatalf("write after Close: %v, want ErrClosed", err)
	}
	// A monitor killed in the middle of a record.
	f, err := os.OpenFile(filepath.Join(dir, FileName), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("2026-11-28T21:00:00.000000000Z stdout F torn in the midd")
	f.Close()
	// Rotated files from a run with a larger max-file go.
	for _, name := range []string{FileName + ".2", FileName + ".7"} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	w2, err := Open(dir, Options{MaxFiles: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer w2.Close()
	write(t, w2, Stdout, "after\n")
	out, _ := readAll(t, dir, ReadOptions{Tail: -1})
	if out != "before\nafter\n" {
		t.Fatalf("read %q", out)
	}
	if _, err := os.Stat(filepath.Join(dir, FileName+".7")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("ctr.log.7 beyond max-file 3 was kept: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, FileName+".2")); err != nil {
		t.Fatalf("ctr.log.2 within max-file 3 was removed: %v", err)
	}
}

func TestBadStream(t *testing.T) {
	w, _ := open(t, Options{})
	if _, err := w.Stream("stdin").Write([]byte("x")); !errors.Is(err, ErrStream) {
		t.Fatalf("write to stdin: %v, want ErrStream", err)
	}
}

func TestOpenRejectsBadOptions(t *testing.T) {
	for _, o := range []Options{{MaxSize: -1}, {MaxFiles: -2}} {
		if _, err := Open(t.TempDir(), o); !errors.Is(err, ErrLogOpt) {
			t.Errorf("Open with %+v: %v, want ErrLogOpt", o, err)
		}
	}
}

func TestParseLogOpts(t *testing.T) {
	for _, tc := range []struct {
		in   []string
		want Options
	}{
		{nil, Options{}},
		{[]string{"max-size=10m", "max-file=3"}, Options{MaxSize: 10 << 20, MaxFiles: 3}},
		{[]string{"max-size=512k"}, Options{MaxSize: 512 << 10}},
		{[]string{"max-size=1g"}, Options{MaxSize: 1 << 30}},
		{[]string{"max-size=2000"}, Options{MaxSize: 2000}},
		{[]string{"max-size=10MB"}, Options{MaxSize: 10 << 20}},
		{[]string{"max-size=10MiB"}, Options{MaxSize: 10 << 20}},
		{[]string{"max-size=1.5m"}, Options{MaxSize: 3 << 19}},
	} {
		got, err := ParseLogOpts(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseLogOpts(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
	for _, tc := range []struct{ in, mention string }{
		{"max-size=10x", "max-size=10x"},
		{"max-size=", "max-size="},
		{"max-size=-1", "max-size=-1"},
		{"max-size=0", "max-size=0"},
		{"max-size=inf", "max-size=inf"},
		{"max-file=0", "max-file=0"},
		{"max-file=two", "max-file=two"},
		{"compress=true", "compress"},
		{"max-size", "KEY=VALUE"},
	} {
		_, err := ParseLogOpts([]string{tc.in})
		if !errors.Is(err, ErrLogOpt) || !strings.Contains(err.Error(), tc.mention) || strings.Contains(err.Error(), "\n") {
			t.Errorf("ParseLogOpts(%q): %v; want one line with ErrLogOpt naming %q", tc.in, err, tc.mention)
		}
	}
}

func TestTimestampsAreWritersClock(t *testing.T) {
	w, dir := open(t, Options{})
	w.now = func() time.Time { return time.Date(2026, 11, 28, 22, 0, 0, 120000000, time.FixedZone("CET", 3600)) }
	write(t, w, Stdout, "x\n")
	if got := rawLines(t, dir, FileName); len(got) != 1 || got[0] != "2026-11-28T21:00:00.120000000Z stdout F x" {
		t.Fatalf("record %q", got)
	}
}

package ctrlog

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// lines returns "line FROM\n" .. "line TO-1\n".
func lines(from, to int) string {
	var b strings.Builder
	for i := from; i < to; i++ {
		fmt.Fprintf(&b, "line %d\n", i)
	}
	return b.String()
}

func TestTailAcrossRotatedFiles(t *testing.T) {
	w, dir := open(t, Options{MaxSize: 1000, MaxFiles: 30})
	for i := range 300 {
		write(t, w, Stdout, fmt.Sprintf("line %d\n", i))
	}
	if _, n := logSize(t, dir); n < 10 {
		t.Fatalf("%d files: the test did not rotate", n)
	}
	for _, tc := range []struct {
		tail int
		want string
	}{
		{-1, lines(0, 300)},
		{0, ""},
		{1, lines(299, 300)},
		{25, lines(275, 300)}, // across at least one rotation
		{120, lines(180, 300)},
		{300, lines(0, 300)},
		{1000, lines(0, 300)},
	} {
		if out, _ := readAll(t, dir, ReadOptions{Tail: tc.tail}); out != tc.want {
			t.Errorf("--tail %d: got %d bytes %q, want %d", tc.tail, len(out), tailOf(out), len(tc.want))
		}
	}
}

// TestTailCountsLinesOfBothStreams: a line belongs to where its first record
// is, so a line that began before the cut is left out whole.
func TestTailCountsLinesOfBothStreams(t *testing.T) {
	w, dir := open(t, Options{})
	write(t, w, Stdout, "a1\n")
	write(t, w, Stderr, "b1\n")
	write(t, w, Stdout, "x")    // starts a line...
	write(t, w, Stderr, "b2\n") // ...that b2 interrupts
	write(t, w, Stdout, "y\n")
	for _, tc := range []struct {
		tail      int
		out, errs string
	}{
		{1, "", "b2\n"},
		{2, "xy\n", "b2\n"},
		{3, "xy\n", "b1\nb2\n"},
		{4, "a1\nxy\n", "b1\nb2\n"},
	} {
		out, errs := readAll(t, dir, ReadOptions{Tail: tc.tail})
		if out != tc.out || errs != tc.errs {
			t.Errorf("--tail %d: %q and %q, want %q and %q", tc.tail, out, errs, tc.out, tc.errs)
		}
	}
}

func TestSinceUntil(t *testing.T) {
	w, dir := open(t, Options{MaxSize: 200, MaxFiles: 100})
	t0 := time.Date(2026, 11, 28, 21, 0, 0, 0, time.UTC)
	w.now = clock(t0) // line i at t0 + i s
	for i := range 10 {
		write(t, w, Stdout, fmt.Sprintf("line %d\n", i))
	}
	at := func(i int) time.Time { return t0.Add(time.Duration(i) * time.Second) }
	for _, tc := range []struct {
		name string
		o    ReadOptions
		want string
	}{
		{"since", ReadOptions{Tail: -1, Since: at(7)}, lines(7, 10)},
		{"since between", ReadOptions{Tail: -1, Since: at(7).Add(-time.Millisecond)}, lines(7, 10)},
		{"until", ReadOptions{Tail: -1, Until: at(2)}, lines(0, 3)},
		{"both", ReadOptions{Tail: -1, Since: at(3), Until: at(6)}, lines(3, 7)},
		{"tail within", ReadOptions{Tail: 2, Since: at(3), Until: at(6)}, lines(5, 7)},
		{"empty window", ReadOptions{Tail: -1, Since: at(6), Until: at(3)}, ""},
	} {
		if out, _ := readAll(t, dir, tc.o); out != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, out, tc.want)
		}
	}
}

func TestTimestampsPrefixLines(t *testing.T) {
	w, dir := open(t, Options{})
	t0 := time.Date(2026, 11, 28, 21, 0, 0, 123456789, time.UTC)
	w.now = clock(t0)
	write(t, w, Stdout, "first\n")
	write(t, w, Stderr, "err\n")
	write(t, w, Stdout, "part ")
	write(t, w, Stdout, "and end\n")
	out, errs := readAll(t, dir, ReadOptions{Tail: -1, Timestamps: true})
	want := "2026-11-28T21:00:00.123456789Z first\n2026-11-28T21:00:02.123456789Z part and end\n"
	if out != want || errs != "2026-11-28T21:00:01.123456789Z err\n" {
		t.Fatalf("-t: %q and %q", out, errs)
	}
	// Nine digits always, as Docker prints them.
	w.now = func() time.Time { return time.Date(2026, 11, 28, 21, 0, 0, 0, time.UTC) }
	write(t, w, Stdout, "round\n")
	out, _ = readAll(t, dir, ReadOptions{Tail: 1, Timestamps: true})
	if !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z round\n$`).MatchString(out) {
		t.Fatalf("-t: %q", out)
	}
}

func TestTornAndForeignLinesAreSkipped(t *testing.T) {
	w, dir := open(t, Options{MaxSize: 300, MaxFiles: 10})
	write(t, w, Stdout, lines(0, 10))
	w.Close()
	l, err := list(dir)
	if err != nil || len(l) < 2 {
		t.Fatalf("files %v, %v: want rotated ones", l, err)
	}
	// Damage a rotated file in the middle and the end, and end the log
	// with a torn record, as a monitor killed mid-write leaves it.
	rotated := filepath.Join(dir, l[0].name)
	b, err := os.ReadFile(rotated)
	if err != nil {
		t.Fatal(err)
	}
	first, rest, _ := strings.Cut(string(b), "\n")
	damaged := first + "\nnot a record at all\n" + strings.Repeat("\xff", readSize+readSize/2) + "\n" + rest + "2026-11-28T21:00:00Z stdout F torn"
	if err := os.WriteFile(rotated, []byte(damaged), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(filepath.Join(dir, FileName), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("2026-11-28T21:00:00.000000000Z stdout F half a li")
	f.Close()
	out, errs := readAll(t, dir, ReadOptions{Tail: -1})
	if out != lines(0, 10) || errs != "" {
		t.Fatalf("read %q and %q", out, errs)
	}
	out, _ = readAll(t, dir, ReadOptions{Tail: 2})
	if out != lines(8, 10) {
		t.Fatalf("--tail 2 over a torn end: %q", out)
	}
}

func TestReadMissingDir(t *testing.T) {
	err := Read(t.Context(), filepath.Join(t.TempDir(), "gone"), ReadOptions{Tail: -1}, nil, nil)
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Read of a missing dir: %v", err)
	}
	// A directory without a log yet is an empty log.
	if out, _ := readAll(t, t.TempDir(), ReadOptions{Tail: -1}); out != "" {
		t.Fatalf("empty dir: %q", out)
	}
}

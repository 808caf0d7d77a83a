package ctrlog

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestFollowSeesNewLines(t *testing.T) {
	w, dir := open(t, Options{})
	write(t, w, Stdout, "old\n")
	f := follow(t, dir, ReadOptions{Tail: -1})
	f.out.waitFor(t, "the old line", func(s string) bool { return s == "old\n" })
	for i := range 20 {
		write(t, w, Stdout, fmt.Sprintf("new %d\n", i))
		want := fmt.Sprintf("new %d\n", i)
		f.out.waitFor(t, want, func(s string) bool { return strings.HasSuffix(s, want) })
	}
	// Output without a newline shows at once (a prompt), then its end.
	write(t, w, Stderr, "Password: ")
	f.err.waitFor(t, "the prompt", func(s string) bool { return s == "Password: " })
	write(t, w, Stderr, "ok\n")
	f.err.waitFor(t, "the end of the prompt's line", func(s string) bool { return s == "Password: ok\n" })
	w.Close()
	close(f.done)
	if err := f.wait(t); err != nil {
		t.Fatal(err)
	}
	if got := f.out.String(); got != "old\n"+strings.ReplaceAll(lines(0, 20), "line", "new") {
		t.Fatalf("followed %q", got)
	}
}

// TestFollowAcrossRotation writes a line, waits for follow to print it and
// writes the next, with files so small that every few lines rotate and
// max-file 2 removes the file follow had open a rotation earlier.
func TestFollowAcrossRotation(t *testing.T) {
	w, dir := open(t, Options{MaxSize: 100, MaxFiles: 2})
	f := follow(t, dir, ReadOptions{Tail: -1, Timestamps: false})
	for i := range 300 {
		want := fmt.Sprintf("line %d\n", i)
		write(t, w, Stdout, want)
		f.out.waitFor(t, want, func(s string) bool { return strings.HasSuffix(s, want) })
	}
	w.Close()
	close(f.done)
	if err := f.wait(t); err != nil {
		t.Fatal(err)
	}
	if got := f.out.String(); got != lines(0, 300) {
		t.Fatalf("followed %d bytes, want %d: lost or repeated lines", len(got), len(lines(0, 300)))
	}
}

// TestFollowBurstAcrossRotations lets the writer run ahead of follow
// through many rotations (every file kept), then closes Done at once: follow
// must print everything exactly once and in order.
func TestFollowBurstAcrossRotations(t *testing.T) {
	w, dir := open(t, Options{MaxSize: 2048, MaxFiles: 400})
	f := follow(t, dir, ReadOptions{Tail: -1})
	var want, wantErr strings.Builder
	for i := range 5000 {
		s := fmt.Sprintf("line %d %s\n", i, strings.Repeat("-", i%40))
		if i%7 == 0 {
			write(t, w, Stderr, s)
			wantErr.WriteString(s)
			continue
		}
		// Every third line in two writes: P and F records that a
		// rotation may split.
		if i%3 == 0 {
			write(t, w, Stdout, s[:5])
			write(t, w, Stdout, s[5:])
		} else {
			write(t, w, Stdout, s)
		}
		want.WriteString(s)
	}
	if _, n := logSize(t, dir); n < 100 {
		t.Fatalf("%d files: the test did not rotate enough", n)
	}
	w.Close()
	close(f.done)
	if err := f.wait(t); err != nil {
		t.Fatal(err)
	}
	if got := f.out.String(); got != want.String() {
		t.Fatalf("stdout: %d bytes, want %d", len(got), want.Len())
	}
	if got := f.err.String(); got != wantErr.String() {
		t.Fatalf("stderr: %d bytes, want %d", len(got), wantErr.Len())
	}
}

// TestFollowStopsWhenDone: lines written just before Done is closed are
// printed before Read returns, whether or not follow had woken for them.
func TestFollowStopsWhenDone(t *testing.T) {
	w, dir := open(t, Options{MaxSize: 4096, MaxFiles: 100})
	f := follow(t, dir, ReadOptions{Tail: -1})
	write(t, w, Stdout, lines(0, 1000))
	w.Close()
	close(f.done)
	if err := f.wait(t); err != nil {
		t.Fatal(err)
	}
	if got := f.out.String(); got != lines(0, 1000) {
		t.Fatalf("followed %d bytes, want %d", len(got), len(lines(0, 1000)))
	}
}

func TestFollowTailZeroPrintsOnlyNew(t *testing.T) {
	w, dir := open(t, Options{})
	write(t, w, Stdout, lines(0, 5))
	ready := make(chan struct{})
	f := follow(t, dir, ReadOptions{Tail: 0, ready: func() { close(ready) }})
	<-ready
	write(t, w, Stdout, "new\n")
	f.out.waitFor(t, "the new line", func(s string) bool { return s != "" })
	close(f.done)
	if err := f.wait(t); err != nil || f.out.String() != "new\n" {
		t.Fatalf("followed %q, %v", f.out.String(), err)
	}
}

// TestFollowBeforeTheLogExists: `nook logs -f` of a container whose
// monitor has not opened the log yet.
func TestFollowBeforeTheLogExists(t *testing.T) {
	dir := t.TempDir()
	f := follow(t, dir, ReadOptions{Tail: -1})
	w, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	write(t, w, Stdout, "hello\n")
	f.out.waitFor(t, "hello", func(s string) bool { return s == "hello\n" })
}

func TestFollowEndsWithContext(t *testing.T) {
	w, dir := open(t, Options{})
	write(t, w, Stdout, "x\n")
	f := follow(t, dir, ReadOptions{Tail: -1})
	f.out.waitFor(t, "x", func(s string) bool { return s == "x\n" })
	f.cancel()
	if err := f.wait(t); !errors.Is(err, context.Canceled) {
		t.Fatalf("Read after cancel: %v", err)
	}
}

func TestFollowEndsAtUntil(t *testing.T) {
	w, dir := open(t, Options{})
	t0 := time.Now()
	w.now = clock(t0.Add(-time.Hour))
	write(t, w, Stdout, "in\n")
	w.now = func() time.Time { return t0.Add(time.Hour) }
	write(t, w, Stdout, "out\n")
	// Until already passed: follow prints what is in the window and ends.
	f := follow(t, dir, ReadOptions{Tail: -1, Until: t0})
	if err := f.wait(t); err != nil || f.out.String() != "in\n" {
		t.Fatalf("followed %q, %v", f.out.String(), err)
	}
}

func TestFollowEndsWhenDirRemoved(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ctr")
	w, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	write(t, w, Stdout, "x\n")
	w.Close()
	f := follow(t, dir, ReadOptions{Tail: -1})
	f.out.waitFor(t, "x", func(s string) bool { return s == "x\n" })
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := f.wait(t); err != nil {
		t.Fatalf("Read after the directory went: %v", err)
	}
}

// TestFollowFallingBehindNeverRepeats: with max-file 2 a follower that
// falls more than a rotation behind loses the files removed in between (as
// Docker's and Podman's do), but never prints a line twice or out of order.
func TestFollowFallingBehindNeverRepeats(t *testing.T) {
	w, dir := open(t, Options{MaxSize: 512, MaxFiles: 2})
	f := follow(t, dir, ReadOptions{Tail: -1})
	const n = 20000
	write(t, w, Stdout, "start\n")
	f.out.waitFor(t, "the first line", func(s string) bool { return s != "" })
	for i := range n {
		write(t, w, Stdout, fmt.Sprintf("line %d\n", i))
	}
	w.Close()
	close(f.done)
	if err := f.wait(t); err != nil {
		t.Fatal(err)
	}
	got := strings.Split(strings.TrimSuffix(f.out.String(), "\n"), "\n")
	last := -1
	for _, l := range got[1:] {
		var i int
		if _, err := fmt.Sscanf(l, "line %d", &i); err != nil || i <= last {
			t.Fatalf("line %q after line %d", l, last)
		}
		last = i
	}
	if last != n-1 {
		t.Fatalf("the last line printed is %d, want %d", last, n-1)
	}
	t.Logf("printed %d of %d lines", len(got)-1, n)
}

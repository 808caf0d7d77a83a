package ctrlog

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// open opens a log in a new directory, closed when the test ends.
func open(t testing.TB, opts Options) (*Writer, string) {
	t.Helper()
	dir := t.TempDir()
	w, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w, dir
}

// clock returns successive times one second apart from start, for a
// Writer's now.
func clock(start time.Time) func() time.Time {
	var mu sync.Mutex
	next := start
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t := next
		next = next.Add(time.Second)
		return t
	}
}

func write(t testing.TB, w *Writer, stream string, s string) {
	t.Helper()
	n, err := w.Stream(stream).Write([]byte(s))
	if err != nil || n != len(s) {
		t.Fatalf("write %q to %s: %d, %v", s, stream, n, err)
	}
}

// readAll runs Read without following and returns both streams.
func readAll(t testing.TB, dir string, o ReadOptions) (string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	if err := Read(context.Background(), dir, o, &out, &errb); err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String()
}

// rawLines returns the lines of dir/name.
func rawLines(t testing.TB, dir, name string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	s := strings.TrimSuffix(string(b), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// logSize is the total size of the log's files and how many there are.
func logSize(t testing.TB, dir string) (int64, int) {
	t.Helper()
	l, err := list(dir)
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, e := range l {
		fi, err := os.Stat(filepath.Join(dir, e.name))
		if err != nil {
			t.Fatal(err)
		}
		total += fi.Size()
	}
	return total, len(l)
}

// syncBuf is an output writer that a test can wait on: each Write wakes
// waitFor, which checks the content again.
type syncBuf struct {
	mu   sync.Mutex
	b    bytes.Buffer
	wake chan struct{}
}

func newSyncBuf() *syncBuf { return &syncBuf{wake: make(chan struct{}, 1)} }

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	s.b.Write(p)
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
	return len(p), nil
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitFor waits until ok(content) holds. The deadline only turns a hang
// into a failure; nothing waits on time to let the reader catch up.
func (s *syncBuf) waitFor(t testing.TB, what string, ok func(string) bool) {
	t.Helper()
	deadline := time.NewTimer(30 * time.Second)
	defer deadline.Stop()
	for !ok(s.String()) {
		select {
		case <-s.wake:
		case <-deadline.C:
			t.Fatalf("follow did not print %s; printed %q", what, tailOf(s.String()))
		}
	}
}

func tailOf(s string) string {
	if len(s) > 300 {
		return "..." + s[len(s)-300:]
	}
	return s
}

// follower runs Read with Follow in a goroutine.
type follower struct {
	out, err *syncBuf
	done     chan struct{}
	cancel   context.CancelFunc
	result   chan error
}

func follow(t testing.TB, dir string, o ReadOptions) *follower {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	f := &follower{out: newSyncBuf(), err: newSyncBuf(), done: make(chan struct{}),
		cancel: cancel, result: make(chan error, 1)}
	o.Follow, o.Done = true, f.done
	go func() { f.result <- Read(ctx, dir, o, f.out, f.err) }()
	t.Cleanup(func() {
		cancel()
		<-f.result
	})
	return f
}

// wait returns Read's result, failing the test if it does not return.
func (f *follower) wait(t testing.TB) error {
	t.Helper()
	select {
	case err := <-f.result:
		f.result <- err // for the cleanup
		return err
	case <-time.After(30 * time.Second):
		t.Fatal("Read did not return")
		return nil
	}
}

package runtimedir

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

func exists(t *testing.T, path string) bool {
	t.Helper()
	_, err := os.Lstat(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	return err == nil
}

func TestCleanupRemovesOnlyAnEmptyFallback(t *testing.T) {
	tmp := private(t)
	opts := fallbackOpts(tmp)
	dir, err := Dir(os.Getuid(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	c, err := Sub(os.Getuid(), "c1", opts...)
	if err != nil {
		t.Fatal(err)
	}
	if err := Cleanup(dir, opts...); err != nil || !exists(t, c) {
		t.Fatalf("Cleanup with a container left = %v; container dir there: %v", err, exists(t, c))
	}
	if err := os.Remove(c); err != nil {
		t.Fatal(err)
	}
	if err := Cleanup(dir, opts...); err != nil || exists(t, dir) {
		t.Fatalf("Cleanup of the empty fallback = %v; still there: %v", err, exists(t, dir))
	}
	if err := Cleanup(dir, opts...); err != nil {
		t.Fatalf("Cleanup of a removed fallback: %v", err)
	}
}

func TestCleanupLeavesSessionDirs(t *testing.T) {
	// A session directory whose name looks like a fallback, and nook's
	// directory in a session directory, both empty.
	xdg := filepath.Join(private(t), "nook-7")
	if err := os.Mkdir(xdg, 0o700); err != nil {
		t.Fatal(err)
	}
	opts := []Option{WithXDGRuntimeDir(xdg), WithRunUserDir(""), WithTmpDir(private(t))}
	dir, err := Dir(os.Getuid(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{dir, xdg, xdg + "/"} {
		if err := Cleanup(d, opts...); err != nil || !exists(t, d) {
			t.Errorf("Cleanup(%s) = %v; still there: %v (want kept)", d, err, exists(t, d))
		}
	}
}

func TestSub(t *testing.T) {
	opts := fallbackOpts(private(t))
	p, err := Sub(os.Getuid(), "abc", opts...)
	if err != nil {
		t.Fatal(err)
	}
	wantMode(t, p, 0o700)
	if _, err := Sub(os.Getuid(), "abc", opts...); !errors.Is(err, fs.ErrExist) {
		t.Errorf("Sub of an existing name = %v, want fs.ErrExist", err)
	}
	for _, bad := range []string{"", ".", "..", "a/b", "/abs"} {
		if _, err := Sub(os.Getuid(), bad, opts...); err == nil {
			t.Errorf("Sub(%q) made a directory", bad)
		}
	}
}

// TestSubRacesCleanup runs containers' lives in parallel, each ending
// with Cleanup: a Cleanup that finds the fallback empty removes it while
// another goroutine is about to make its entry, and Sub must still succeed.
func TestSubRacesCleanup(t *testing.T) {
	opts := fallbackOpts(private(t))
	const workers, rounds = 4, 300
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range rounds {
				p, err := Sub(os.Getuid(), fmt.Sprintf("c%d-%d", w, i), opts...)
				if err != nil {
					errs <- err
					return
				}
				if err := os.Remove(p); err != nil {
					errs <- err
					return
				}
				if err := Cleanup(filepath.Dir(p), opts...); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

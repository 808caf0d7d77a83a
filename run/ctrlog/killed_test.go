package ctrlog

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// envWriter makes the test binary a writer that writes to the log in the
// directory it names until it is killed (TestKilledWriter).
const envWriter = "CTRLOG_TEST_WRITER"

func TestMain(m *testing.M) {
	if dir := os.Getenv(envWriter); dir != "" {
		os.Exit(writerProcess(dir))
	}
	os.Exit(m.Run())
}

// writerProcess writes numbered lines, 16 KiB and more per Write, to both
// streams, says "ready" after the first, and stops writing (but not
// running) after 2000 writes.
func writerProcess(dir string) int {
	w, err := Open(dir, Options{MaxSize: 1 << 30})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	n := 0
	for i := range 2000 {
		var b strings.Builder
		for b.Len() < 16<<10 {
			fmt.Fprintf(&b, "line %d %s\n", n, strings.Repeat("x", n%50))
			n++
		}
		if _, err := w.Stream(streamNames[i%2]).Write([]byte(b.String())); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		if i == 0 {
			fmt.Println("ready")
		}
	}
	select {}
}

// TestKilledWriter SIGKILLs a writing process while a follower reads, as a
// monitor killed with its container: the follower, told by the process's
// end, prints every whole line written, the log reads back without error,
// and a new writer goes on after the last whole record.
func TestKilledWriter(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0])
	cmd.Args[0] = os.Args[0]
	cmd.Env = append(os.Environ(), envWriter+"="+dir)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	if line, err := bufio.NewReader(stdout).ReadString('\n'); line != "ready\n" {
		t.Fatalf("writer process said %q, %v", line, err)
	}
	f := follow(t, dir, ReadOptions{Tail: -1})
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	f.out.waitFor(t, "a line", func(s string) bool { return s != "" })
	cmd.Process.Kill()
	<-exited
	close(f.done)
	if err := f.wait(t); err != nil {
		t.Fatal(err)
	}
	out, errs := readAll(t, dir, ReadOptions{Tail: -1})
	if out != f.out.String() || errs != f.err.String() {
		t.Fatalf("follow printed %d and %d bytes, the log holds %d and %d", len(f.out.String()), len(f.err.String()), len(out), len(errs))
	}
	// The lines are numbered across both streams; each stream's are in
	// order, and together they are all the numbers up to the last.
	seen := map[int]bool{}
	for _, s := range []string{out, errs} {
		last := -1
		for _, l := range strings.SplitAfter(s, "\n") {
			if l == "" {
				break
			}
			l = strings.TrimSuffix(l, "\n")
			var i int
			if _, err := fmt.Sscanf(l, "line %d", &i); err != nil || i <= last || l != fmt.Sprintf("line %d %s", i, strings.Repeat("x", i%50)) {
				t.Fatalf("line %q after line %d", tailOf(l), last)
			}
			last, seen[i] = i, true
		}
	}
	for i := range len(seen) {
		if !seen[i] {
			t.Fatalf("line %d missing of %d", i, len(seen))
		}
	}
	t.Logf("killed after %d lines (%d bytes)", len(seen), len(out)+len(errs))

	w, err := Open(dir, Options{MaxSize: 1 << 30})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	write(t, w, Stdout, "after\n")
	if again, _ := readAll(t, dir, ReadOptions{Tail: -1}); again != out+"after\n" {
		t.Fatalf("after a new Open the log reads %q", tailOf(again))
	}
}

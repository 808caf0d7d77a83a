package fuseunion

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

func fdOpen(fd int) bool {
	_, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
	return err == nil
}

// TestLowerFdsShareAndBound: a path's fd is shared while in use, kept
// when idle, and at most maxIdleLowerFds idle ones stay open, the least
// recently used closed first.
func TestLowerFdsShareAndBound(t *testing.T) {
	var c lowerFds
	defer c.closeAll()
	open := func() int {
		fd, err := unix.Open("/dev/null", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		return fd
	}
	fd0, rel0 := c.add("f0", open())
	fd, rel, ok := c.get("f0")
	if !ok || fd != fd0 {
		t.Fatalf("get f0 while in use: fd %d ok %v, want the shared fd %d", fd, ok, fd0)
	}
	dup := open()
	if fd, relDup := c.add("f0", dup); fd != fd0 {
		t.Errorf("a second add of f0 returned fd %d, want the shared %d", fd, fd0)
	} else {
		relDup()
	}
	if fdOpen(dup) {
		t.Errorf("the duplicate fd of f0 was not closed")
	}
	rel()
	rel0()
	if n := c.idleCount(); n != 1 {
		t.Fatalf("idle after releasing f0: %d, want 1", n)
	}
	if fd, rel, ok := c.get("f0"); !ok || fd != fd0 {
		t.Fatalf("get idle f0: fd %d ok %v, want %d", fd, ok, fd0)
	} else {
		rel()
	}

	fds := []int{fd0}
	for i := 1; i <= maxIdleLowerFds; i++ {
		fd, rel := c.add(fmt.Sprintf("f%d", i), open())
		fds = append(fds, fd)
		rel()
	}
	if n := c.idleCount(); n != maxIdleLowerFds {
		t.Fatalf("idle: %d, want the bound %d", n, maxIdleLowerFds)
	}
	if fdOpen(fds[0]) {
		t.Errorf("the least recently used fd (f0) is still open past the bound")
	}
	if _, _, ok := c.get("f0"); ok {
		t.Errorf("f0 still listed after its eviction")
	}
	for _, fd := range fds[1:] {
		if !fdOpen(fd) {
			t.Errorf("fd %d closed though within the bound", fd)
		}
	}
}

// TestDirLowerOpensShareOneFd: opening, reading and closing one file of a
// directory lower many times through the union reads the right bytes and
// leaves the server (this process) with no more fds than one open: the
// lower shares one fd and keeps it for the next open.
func TestDirLowerOpensShareOneFd(t *testing.T) {
	lower := t.TempDir()
	if err := os.WriteFile(filepath.Join(lower, "page.html"), []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	tu := mountDirs(t, lower)
	countFds := func() int {
		ents, err := os.ReadDir("/proc/self/fd")
		if err != nil {
			t.Fatal(err)
		}
		return len(ents)
	}
	p := filepath.Join(tu.mnt, "page.html")
	read := func() {
		data, err := os.ReadFile(p)
		if err != nil || string(data) != "hello" {
			t.Fatalf("read %s: %q, %v", p, data, err)
		}
	}
	read()
	before := countFds()
	for range 200 {
		read()
	}
	if after := countFds(); after > before {
		t.Errorf("open fds went from %d to %d over 200 opens of one lower file", before, after)
	}
	// The last RELEASE reaches the server after close(2) returns, so the
	// fd may still be in use here; either way it is the one fd kept.
	d := tu.srv.u.lowers[0].(*dirLower)
	if n := d.files.openCount(); n != 1 {
		t.Errorf("the lower holds %d fds after 201 opens of one file, want 1 (shared, kept for the next open)", n)
	}
}

// idleCount is how many fds are open with no user.
func (c *lowerFds) idleCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.idle.Len()
}

// openCount is how many fds are open, in use or idle.
func (c *lowerFds) openCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.byPath)
}

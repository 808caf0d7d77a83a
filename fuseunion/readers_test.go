package fuseunion

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/nookrun/nook/internal/nstest"
)

// blockingFile is a file whose every READ waits until release is closed.
type blockingFile struct {
	fs.Inode
	entered chan struct{} // gets a value when a READ at offset 0 starts
	release chan struct{}
}

var (
	_ = (fs.NodeOpener)((*blockingFile)(nil))
	_ = (fs.NodeReader)((*blockingFile)(nil))
	_ = (fs.NodeGetattrer)((*blockingFile)(nil))
)

func (f *blockingFile) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	return nil, fuse.FOPEN_DIRECT_IO, 0
}

func (f *blockingFile) Getattr(ctx context.Context, fh fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	out.Mode = syscall.S_IFREG | 0o644
	out.Size = 1
	return 0
}

func (f *blockingFile) Read(ctx context.Context, fh fs.FileHandle, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	if off >= 1 {
		return fuse.ReadResultData(nil), 0 // EOF: only the first READ of each open blocks
	}
	f.entered <- struct{}{}
	<-f.release
	return fuse.ReadResultData([]byte("x")), 0
}

// TestBlockedReadsHoldUpNothing checks the guarantee nook's go-fuse patch
// keeps (third_party/go-fuse/PATCH.md): requests answered inline by one
// reader must not leave the mount without a reader while a request that
// moves data blocks. Two READs are held blocked; lookups, stats, opens and
// reads of another file must still be answered.
func TestBlockedReadsHoldUpNothing(t *testing.T) {
	nstest.RequireFUSE(t)
	mnt := t.TempDir()
	slow := &blockingFile{entered: make(chan struct{}), release: make(chan struct{})}
	root := &fs.Inode{}
	timeout := time.Hour
	srv, err := fs.Mount(mnt, root, &fs.Options{
		EntryTimeout: &timeout,
		AttrTimeout:  &timeout,
		OnAdd: func(ctx context.Context) {
			root.AddChild("slow", root.NewPersistentInode(ctx, slow, fs.StableAttr{Ino: 2}), false)
			for i, name := range []string{"a", "b", "c"} {
				quick := &fs.MemRegularFile{Data: []byte("quick " + name), Attr: fuse.Attr{Mode: 0o644}}
				root.AddChild(name, root.NewPersistentInode(ctx, quick, fs.StableAttr{Ino: uint64(3 + i)}), false)
			}
		},
		MountOptions: fuse.MountOptions{DirectMount: true, FsName: "readers-test"},
	})
	if err != nil {
		t.Fatalf("mount: %v", err)
	}
	var released sync.Once
	releaseAll := func() { released.Do(func() { close(slow.release) }) }
	t.Cleanup(func() {
		releaseAll()
		if err := srv.Unmount(); err != nil {
			t.Errorf("unmount: %v", err)
		}
	})

	// within fails the test if f does not return in time: a hang here is
	// the bug this test looks for, and must not hang the test run.
	within := func(what string, f func() error) {
		t.Helper()
		done := make(chan error, 1)
		go func() { done <- f() }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("%s: no answer while READs are blocked: the mount has no free reader", what)
		}
	}

	readSlow := make(chan error, 2)
	for range 2 {
		go func() {
			_, err := os.ReadFile(filepath.Join(mnt, "slow"))
			readSlow <- err
		}()
		within("wait for a READ of slow to reach the server", func() error { <-slow.entered; return nil })
	}

	for _, name := range []string{"a", "b", "c"} {
		p := filepath.Join(mnt, name)
		within("stat "+name, func() error { _, err := os.Stat(p); return err })
		within("read "+name, func() error {
			data, err := os.ReadFile(p)
			if err == nil && string(data) != "quick "+name {
				t.Errorf("read %s: got %q", name, data)
			}
			return err
		})
	}

	releaseAll()
	for range 2 {
		within("finish the blocked READs", func() error { return <-readSlow })
	}
}

// TestIdleMountSleeps checks that a mount nobody uses costs no CPU (its
// readers sleep in read(2) rather than poll the FUSE fd) and still answers
// after the idle period. The server runs in this process, so the
// process's CPU time over half a second of idleness is the measure; a
// reader that polled without sleeping would use all of it.
func TestIdleMountSleeps(t *testing.T) {
	lo := t.TempDir()
	writeTree(t, lo, map[string]string{"f": "x"})
	tu := mountDirs(t, lo)
	if _, err := os.Stat(tu.p("f")); err != nil {
		t.Fatal(err)
	}
	cpu := func() time.Duration {
		var ru syscall.Rusage
		if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
			t.Fatal(err)
		}
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	const window = 500 * time.Millisecond
	before := cpu()
	time.Sleep(window) // the idle period measured, not a wait for an event
	if used := cpu() - before; used > window/5 {
		t.Errorf("an idle mount used %v of CPU in %v: a reader did not go to sleep", used, window)
	}
	if got := readFile(t, tu.p("f")); got != "x" {
		t.Errorf("read after the idle period: %q", got)
	}
}

package ctrlog

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// follow prints records as they are written until Done, Until, the
// removal of the directory or the end of ctx.
func (r *reader) follow(ctx context.Context, w *watcher) error {
	var until <-chan time.Time
	if !r.o.Until.IsZero() {
		t := time.NewTimer(time.Until(r.o.Until))
		defer t.Stop()
		until = t.C
	}
	for {
		if err := r.drain(ctx, true); err != nil {
			return err
		}
		if r.pastUntil {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-r.o.Done:
			return r.drain(ctx, true)
		case <-until:
			return r.drain(ctx, true)
		case <-w.wake:
			if _, err := os.Stat(r.dir); errors.Is(err, os.ErrNotExist) {
				return r.drain(ctx, true)
			}
		}
	}
}

// watcher wakes the reader when anything in the log's directory changes:
// a write (IN_MODIFY is reported for the files in a watched directory), a
// rotation's renames, a new file. One event or many, the reader reads
// everything new, so events are not decoded. The parent directory is
// watched too, for the removal of the log's directory: the files the
// reader holds open pin the directory's dentry, so the kernel tells of its
// removal (IN_DELETE_SELF) only once they are closed, while the parent
// hears of it at once.
type watcher struct {
	f    *os.File
	wake chan struct{} // one pending wake-up is enough
	done sync.WaitGroup
}

const (
	dirMask = unix.IN_MODIFY | unix.IN_CLOSE_WRITE | unix.IN_CREATE |
		unix.IN_MOVED_FROM | unix.IN_MOVED_TO | unix.IN_DELETE |
		unix.IN_DELETE_SELF | unix.IN_MOVE_SELF | unix.IN_ONLYDIR
	parentMask = unix.IN_DELETE | unix.IN_MOVED_FROM | unix.IN_ONLYDIR
)

func watch(dir string) (*watcher, error) {
	fd, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("follow container log: inotify: %w", err)
	}
	if _, err := unix.InotifyAddWatch(fd, dir, dirMask); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("follow container log in %s: %w", dir, err)
	}
	// Without the parent's watch (not searchable, say) a removal of the
	// directory goes unnoticed until Done or ctx; following still works.
	unix.InotifyAddWatch(fd, filepath.Dir(dir), parentMask)
	// A non-blocking fd makes a pollable os.File: Read waits in Go's
	// poller and Close ends it.
	w := &watcher{
		f:    os.NewFile(uintptr(fd), "inotify"),
		wake: make(chan struct{}, 1),
	}
	w.done.Add(1)
	go w.loop()
	return w, nil
}

func (w *watcher) loop() {
	defer w.done.Done()
	buf := make([]byte, 64*(unix.SizeofInotifyEvent+unix.NAME_MAX+1))
	for {
		if _, err := w.f.Read(buf); err != nil {
			return
		}
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
}

func (w *watcher) close() {
	w.f.Close()
	w.done.Wait()
}

package image

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// flock takes a lock on the store's file name; closing the returned
// function's file releases it. Every call opens the file anew: flock locks
// belong to an open file description, so two goroutines of one process
// exclude each other as two processes do.
func (s *Store) flock(name string, how int) (unlock func(), err error) {
	p := filepath.Join(s.root, name)
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock image store: %w", err)
	}
	for {
		err = unix.Flock(int(f.Fd()), how)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, errBusy
		}
		return nil, fmt.Errorf("lock %s: %w", p, err)
	}
	return func() { f.Close() }, nil
}

// errBusy is what a non-blocking lock attempt meets when it is held.
var errBusy = errors.New("image store lock is held")

// readLock is for reads that must see images.json and the blobs it names
// consistently.
func (s *Store) readLock() (func(), error) { return s.flock(lockFile, unix.LOCK_SH) }

// writeLock is for every change of images.json, and for deleting content.
func (s *Store) writeLock() (func(), error) { return s.flock(lockFile, unix.LOCK_EX) }

// Hold keeps the store from garbage-collecting anything until release is
// called: a caller that looks an image up and then opens its layers holds
// the store across both, so that a concurrent Remove cannot delete the
// layers in between (an opened layer stays readable after deletion).
// Load and Import hold the store the same way while they write content
// that no image names yet.
func (s *Store) Hold() (release func(), err error) {
	return s.flock(gcLockFile, unix.LOCK_SH)
}

// gcLock excludes every holder: only then may content that images.json
// does not name be deleted. With nonBlocking it fails with errBusy at once
// when the store is held.
func (s *Store) gcLock(nonBlocking bool) (func(), error) {
	how := unix.LOCK_EX
	if nonBlocking {
		how |= unix.LOCK_NB
	}
	return s.flock(gcLockFile, how)
}

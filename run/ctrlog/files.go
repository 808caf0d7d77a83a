package ctrlog

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"syscall"
)

// fileID names a file across renames: the writer rotates by renaming, so
// the reader tracks inodes, not names. An open file's inode number cannot
// be reused while the reader holds it.
type fileID struct{ dev, ino uint64 }

func idOf(fi os.FileInfo) fileID {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fileID{}
	}
	return fileID{dev: uint64(st.Dev), ino: st.Ino}
}

// listing is the log's files, oldest first.
type listing []listed

type listed struct {
	name string
	id   fileID
}

// list returns the log's files in dir, oldest first: ctr.log.N down to
// ctr.log.1, then ctr.log. A rotation may move files while they are
// looked at, so the directory is read until two readings agree (a rotation
// is a few renames; bounded all the same).
func list(dir string) (listing, error) {
	prev, err := listOnce(dir)
	if err != nil {
		return nil, err
	}
	for range 100 {
		cur, err := listOnce(dir)
		if err != nil {
			return nil, err
		}
		if slices.Equal(prev, cur) {
			return cur, nil
		}
		prev = cur
	}
	return prev, nil
}

func listOnce(dir string) (listing, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read container log: %w", err)
	}
	high := 0
	for _, e := range ents {
		if n, ok := rotatedIndex(e.Name()); ok {
			high = max(high, n)
		}
	}
	// Every number up to one past the highest, not only those the
	// directory listed: read during a rotation, it misses the name a file
	// has just left and the next has not yet taken, and the file that
	// takes it would be missed. Past the highest: where the oldest file
	// may have moved since.
	names := []string{FileName}
	for n := 1; n <= high+1; n++ {
		names = append(names, fmt.Sprintf("%s.%d", FileName, n))
	}
	// Newest first: files only ever move to higher numbers, so a file
	// that moves during the look is seen twice rather than missed.
	var l listing
	seen := map[fileID]bool{}
	for _, name := range names {
		fi, err := os.Lstat(filepath.Join(dir, name))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read container log: %w", err)
		}
		if !fi.Mode().IsRegular() {
			continue
		}
		id := idOf(fi)
		if seen[id] {
			continue
		}
		seen[id] = true
		l = append(l, listed{name: name, id: id})
	}
	slices.Reverse(l)
	return l, nil
}

// after returns the files newer than id: those after it in l, or all of l
// when id is not there (it was rotated away, so everything left is newer).
func (l listing) after(id fileID) listing {
	for i, f := range l {
		if f.id == id {
			return l[i+1:]
		}
	}
	return l
}

// logFile is one file of the log, open for reading.
type logFile struct {
	f    *os.File
	id   fileID
	seq  int   // order among the files this reader opened
	off  int64 // where the next unread line starts
	skip bool  // dropping the rest of an over-long line
}

// openListed opens the files of l in order. It reports false, with nothing
// left open, when one of them was moved or removed in between: the caller
// lists again.
func openListed(dir string, l listing, seq int) ([]*logFile, bool, error) {
	var out []*logFile
	closeAll := func() {
		for _, lf := range out {
			lf.f.Close()
		}
	}
	for _, e := range l {
		f, err := os.Open(filepath.Join(dir, e.name))
		if errors.Is(err, os.ErrNotExist) {
			closeAll()
			return nil, false, nil
		}
		if err != nil {
			closeAll()
			return nil, false, fmt.Errorf("read container log: %w", err)
		}
		fi, err := f.Stat()
		if err != nil {
			f.Close()
			closeAll()
			return nil, false, fmt.Errorf("read container log: %w", err)
		}
		if idOf(fi) != e.id {
			f.Close()
			closeAll()
			return nil, false, nil
		}
		out = append(out, &logFile{f: f, id: e.id, seq: seq})
		seq++
	}
	return out, true, nil
}

// openAfter lists dir and opens the files newer than id (all of them for
// the zero id), oldest first.
func openAfter(dir string, id fileID, seq int) ([]*logFile, error) {
	for {
		l, err := list(dir)
		if err != nil {
			return nil, err
		}
		if id != (fileID{}) {
			l = l.after(id)
		}
		files, ok, err := openListed(dir, l, seq)
		if err != nil || ok {
			return files, err
		}
	}
}

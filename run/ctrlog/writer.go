package ctrlog

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// FileName is the log's name in its directory; rotated files are
// FileName.1 (the newest of them), FileName.2, and so on.
const FileName = "ctr.log"

// flushSize is how many bytes of records a Write gathers before one
// write(2); a Write never keeps records after it returns.
const flushSize = 64 << 10

// Writer appends a container's output to dir/ctr.log, rotating it when it
// would grow past Options.MaxSize. Its streams may be written from
// different goroutines at once.
type Writer struct {
	dir  string
	opts Options
	now  func() time.Time // time.Now; tests set their own clock

	mu   sync.Mutex
	high int      // the highest N of the ctr.log.N that exist
	f    *os.File // nil once closed
	size int64    // of f, including buf
	buf  []byte   // records not yet written to f
	hdr  []byte   // scratch for the current header
}

// Open opens (creating dir and the file if needed) the log in dir for
// appending: the output of a restarted container follows the old. A last
// line torn by a crash is removed, so that new records start on a line of
// their own, and rotated files beyond opts.MaxFiles are removed.
func Open(dir string, opts Options) (*Writer, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("open container log in %s: %w", dir, err)
	}
	w := &Writer{dir: dir, opts: opts, now: time.Now}
	path := w.name(0)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open container log: %w", err)
	}
	if w.size, err = dropTornLine(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("open container log %s: %w", path, err)
	}
	w.f = f
	if err := w.removeExcess(); err != nil {
		f.Close()
		return nil, err
	}
	return w, nil
}

// dropTornLine cuts a last line that has no newline (a record torn when
// the last writer was killed) off f, and returns f's size. A reader that is
// following waits at the start of that line, so it reads on from there.
// When no newline ends the last maxTorn bytes the file is not a log that
// this package wrote; it is ended with a newline rather than cut.
func dropTornLine(f *os.File) (int64, error) {
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	size := fi.Size()
	if size == 0 {
		return 0, nil
	}
	tail := make([]byte, min(size, maxTorn))
	if _, err := f.ReadAt(tail, size-int64(len(tail))); err != nil {
		return 0, err
	}
	if tail[len(tail)-1] == '\n' {
		return size, nil
	}
	i := bytes.LastIndexByte(tail, '\n')
	if i < 0 && int64(len(tail)) < size {
		if _, err := f.Write([]byte{'\n'}); err != nil {
			return 0, err
		}
		return size + 1, nil
	}
	size -= int64(len(tail) - (i + 1))
	if err := f.Truncate(size); err != nil {
		return 0, err
	}
	return size, nil
}

// maxTorn is how far back dropTornLine looks for the last newline: past
// the longest record.
const maxTorn = 2 * maxLine

// removeExcess removes rotated files that a larger MaxFiles of an earlier
// run left, so that the cap holds from the start.
func (w *Writer) removeExcess() error {
	ents, err := os.ReadDir(w.dir)
	if err != nil {
		return fmt.Errorf("open container log in %s: %w", w.dir, err)
	}
	for _, e := range ents {
		n, ok := rotatedIndex(e.Name())
		if !ok {
			continue
		}
		if n < w.opts.MaxFiles {
			w.high = max(w.high, n)
			continue
		}
		if err := os.Remove(filepath.Join(w.dir, e.Name())); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("remove old container log: %w", err)
		}
	}
	return nil
}

// rotatedIndex reports N for a name FileName.N (N ≥ 1).
func rotatedIndex(name string) (int, bool) {
	s, ok := strings.CutPrefix(name, FileName+".")
	if !ok || s == "" || s[0] == '0' {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil && n > 0
}

// name is the path of the log's file number n: 0 is ctr.log.
func (w *Writer) name(n int) string {
	if n == 0 {
		return filepath.Join(w.dir, FileName)
	}
	return filepath.Join(w.dir, FileName+"."+strconv.Itoa(n))
}

// Stream returns the writer for stream name, Stdout or Stderr. Each Write
// to it stores whole records with one write(2) per 64 KiB of them, so a
// reader following the log sees the output as soon as Write returns: a
// complete line is an F record, a line longer than MaxChunk is split into P
// records ended by an F record, and output after the last newline goes out
// at once as P records (a prompt shows up without waiting for its line to
// end). Another name gives a writer whose Writes fail with ErrStream.
func (w *Writer) Stream(name string) io.Writer {
	if streamIndex(name) < 0 {
		return badStream(name)
	}
	return &stream{w: w, name: name}
}

type stream struct {
	w    *Writer
	name string
}

func (s *stream) Write(p []byte) (int, error) { return s.w.write(s.name, p) }

type badStream string

func (b badStream) Write([]byte) (int, error) {
	return 0, fmt.Errorf("write container log: %w %q (want %s or %s)", ErrStream, string(b), Stdout, Stderr)
}

// write stores p as records of stream name.
func (w *Writer) write(name string, p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return 0, fmt.Errorf("write container log: %w", ErrClosed)
	}
	w.hdr = appendHeader(w.hdr[:0], w.now(), name)
	for rest := p; len(rest) > 0; {
		line := rest
		ended := false
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			line, rest, ended = rest[:i], rest[i+1:], true
		} else {
			rest = nil
		}
		// An empty line is one empty F record; otherwise chunks of
		// MaxChunk, the last of an ended line an F record.
		for first := true; first || len(line) > 0; first = false {
			chunk := line[:min(len(line), MaxChunk)]
			line = line[len(chunk):]
			if err := w.add(len(line) > 0 || !ended, chunk); err != nil {
				return 0, err
			}
		}
	}
	if err := w.flush(); err != nil {
		return 0, err
	}
	return len(p), nil
}

// add appends one record to the buffer, rotating first when it would take
// the file past MaxSize.
func (w *Writer) add(partial bool, content []byte) error {
	n := int64(len(w.hdr) + 2 + len(content) + 1)
	if w.size > 0 && w.size+n > w.opts.MaxSize {
		if err := w.flush(); err != nil {
			return err
		}
		if err := w.rotate(); err != nil {
			return err
		}
	}
	w.buf = appendRecord(w.buf, w.hdr, partial, content)
	w.size += n
	if len(w.buf) >= flushSize {
		return w.flush()
	}
	return nil
}

// flush writes the buffered records with one write(2). On an error the
// records are dropped, so that a full disk costs output, never memory.
func (w *Writer) flush() error {
	if len(w.buf) == 0 {
		return nil
	}
	n, err := w.f.Write(w.buf)
	w.size -= int64(len(w.buf) - n)
	w.buf = w.buf[:0]
	if err != nil {
		return fmt.Errorf("write container log: %w", err)
	}
	return nil
}

// rotate shifts ctr.log.N to ctr.log.N+1 (the last one falls off), ctr.log
// to ctr.log.1, and starts a new ctr.log. A reader that holds the old file
// open finishes it before it moves on: the old file is complete before the
// new one exists.
func (w *Writer) rotate() error {
	last := w.opts.MaxFiles - 1
	// The oldest goes first, so that no rename replaces a file: ext4
	// (auto_da_alloc) starts writing back the renamed file's data when a
	// rename replaces another, which would cost the workload a flush of
	// MaxSize bytes on every rotation.
	if last > 0 && w.high >= last {
		if err := os.Remove(w.name(last)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("rotate container log: %w", err)
		}
	}
	for n := min(w.high, last-1); n >= 1; n-- {
		if err := os.Rename(w.name(n), w.name(n+1)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("rotate container log: %w", err)
		}
	}
	var err error
	if last == 0 {
		err = os.Remove(w.name(0))
	} else {
		err = os.Rename(w.name(0), w.name(1))
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("rotate container log: %w", err)
	}
	f, err := os.OpenFile(w.name(0), os.O_RDWR|os.O_CREATE|os.O_APPEND|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("rotate container log: %w", err)
	}
	w.f.Close()
	w.f, w.size, w.high = f, 0, min(w.high+1, last)
	return nil
}

// Close closes the log; later Writes fail with ErrClosed. Every record was
// written when its Write returned, so Close loses nothing.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return nil
	}
	err := w.f.Close()
	w.f = nil
	if err != nil {
		return fmt.Errorf("close container log: %w", err)
	}
	return nil
}

package ctrlog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// ReadOptions says what Read prints, as `docker logs` flags do.
type ReadOptions struct {
	// Tail prints only the last Tail lines (of both streams together)
	// that are within Since and Until; negative prints all of them, 0
	// none (with Follow: only what is written from now on). The zero
	// value is 0, as Docker's --tail 0: pass -1 for everything.
	Tail int
	// Since and Until, when not zero, keep the lines whose time (that of
	// their first record) is within [Since, Until].
	Since, Until time.Time
	// Timestamps prefixes each line with its time in TimeFormat and a
	// space, as `docker logs -t`.
	Timestamps bool
	// Follow keeps printing records as they are written, across
	// rotations, until Done is closed (then what was written before is
	// printed and Read returns nil), Until passes, the log's directory
	// is removed (the same), or ctx ends (Read returns ctx.Err()).
	Follow bool
	// Done is closed once the writer has finished: its Close returned or
	// its process is gone (a pidfd of the monitor that became readable).
	// Nil never fires.
	Done <-chan struct{}

	// ready, when set, is called once Read has looked at the log: what
	// is written after it is new to a follower (tests).
	ready func()
}

// Read prints the log in dir: rotated files oldest first, each stream's
// content to its writer (nil discards it), the P records of a line joined
// and each F record ended with a newline, so that a stream reads back
// byte for byte as it was written. Lines that are not records (torn by a
// crash) are skipped. A line still being written when the log ends (a
// torn last line, or one the writer is halfway through) is left out
// unless Follow waits for its end.
func Read(ctx context.Context, dir string, o ReadOptions, stdout, stderr io.Writer) error {
	r := &reader{dir: dir, o: o, buf: make([]byte, readSize)}
	r.out.w = [2]io.Writer{stdout, stderr}
	var w *watcher
	if o.Follow {
		// Watch before looking, so that nothing written after the
		// look goes unnoticed.
		var err error
		if w, err = watch(dir); err != nil {
			return err
		}
		defer w.close()
	}
	files, err := openAfter(dir, fileID{}, 0)
	if err != nil {
		return err
	}
	r.files, r.seq = files, len(files)
	defer func() {
		for _, lf := range r.files {
			lf.f.Close()
		}
	}()
	if err := r.findCut(ctx); err != nil {
		return err
	}
	if o.ready != nil {
		o.ready()
	}
	if !o.Follow {
		return r.drain(ctx, false)
	}
	return r.follow(ctx, w)
}

// readSize is how much of a file one read(2) takes.
const readSize = 128 << 10

type reader struct {
	dir string
	o   ReadOptions
	out output
	buf []byte

	// files are open: files[0] is being read, the rest are newer. The
	// newest stays open while following.
	files []*logFile
	seq   int // the next logFile.seq

	st        [2]lineState
	cut       pos  // lines that start before cut are not printed (Tail)
	pastUntil bool // a line later than Until was seen
}

// lineState is where a stream is: inside a line (after a P record) or
// between lines, and whether the current line is printed.
type lineState struct {
	open, show bool
}

// pos is where a record starts, comparable across the files of one Read.
type pos struct {
	seq int
	off int64
}

func (p pos) before(q pos) bool {
	return p.seq < q.seq || (p.seq == q.seq && p.off < q.off)
}

func (r *reader) inWindow(t time.Time) bool {
	return (r.o.Since.IsZero() || !t.Before(r.o.Since)) &&
		(r.o.Until.IsZero() || !t.After(r.o.Until))
}

// scan reads lf from lf.off to its end and calls fn with every complete
// line and where it starts; lf.off is left at the start of an unfinished
// line, to be read again when more has been written. A run of more than
// the buffer without a newline is not a record: it is dropped, up to and
// including its newline.
func (r *reader) scan(ctx context.Context, lf *logFile, fn func(line []byte, at int64) error) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, err := lf.f.ReadAt(r.buf, lf.off)
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("read container log: %w", err)
		}
		data := r.buf[:n]
		used := 0
		for {
			i := bytes.IndexByte(data[used:], '\n')
			if i < 0 {
				break
			}
			if lf.skip {
				lf.skip = false
			} else if err := fn(data[used:used+i], lf.off+int64(used)); err != nil {
				return err
			}
			used += i + 1
		}
		lf.off += int64(used)
		if used == 0 && n == len(r.buf) {
			lf.off += int64(n)
			lf.skip = true
		}
		if n < len(r.buf) {
			return nil
		}
	}
}

// findCut sets r.cut to the start of the Tail-th last line within the
// window, counting over the files open now.
func (r *reader) findCut(ctx context.Context) error {
	if r.o.Tail < 0 {
		return nil
	}
	var (
		ring []pos // the last line starts; next is the oldest once full
		next int
		open [2]bool
		end  pos
	)
	for _, lf := range r.files {
		tmp := &logFile{f: lf.f, seq: lf.seq}
		err := r.scan(ctx, tmp, func(line []byte, at int64) error {
			rec, ok := parseRecord(line)
			if !ok {
				return nil
			}
			if !open[rec.stream] && r.inWindow(rec.time) && r.o.Tail > 0 {
				p := pos{lf.seq, at}
				if len(ring) < r.o.Tail {
					ring = append(ring, p)
				} else {
					ring[next] = p
					next = (next + 1) % len(ring)
				}
			}
			open[rec.stream] = rec.partial
			return nil
		})
		if err != nil {
			return err
		}
		end = pos{lf.seq, tmp.off}
	}
	switch {
	case r.o.Tail == 0:
		r.cut = end
	case len(ring) == r.o.Tail:
		r.cut = ring[next]
	}
	return nil
}

// line handles one line of lf starting at offset at.
func (r *reader) line(lf *logFile, line []byte, at int64) error {
	rec, ok := parseRecord(line)
	if !ok {
		return nil
	}
	s := &r.st[rec.stream]
	if !s.open {
		s.show = !(pos{lf.seq, at}).before(r.cut) && r.inWindow(rec.time)
		if !r.o.Until.IsZero() && rec.time.After(r.o.Until) {
			r.pastUntil = true
		}
		if s.show && r.o.Timestamps {
			var ts [len(TimeFormat) + 1]byte
			r.out.add(rec.stream, append(rec.time.UTC().AppendFormat(ts[:0], TimeFormat), ' '))
		}
	}
	s.open = rec.partial
	if s.show {
		if rec.partial {
			r.out.add(rec.stream, rec.content)
		} else {
			r.out.add(rec.stream, rec.content, newline)
		}
	}
	if len(r.out.buf) >= flushAt {
		return r.out.flush()
	}
	return nil
}

var newline = []byte{'\n'}

// drain prints everything written so far. With follow it looks for files
// newer than the last open one, and moves on to them once that one is
// read to its end: a file is complete before the writer creates the next,
// so reading it again after seeing the next one gets its last records.
// Without follow only the files opened at the start are read.
func (r *reader) drain(ctx context.Context, follow bool) error {
	fn := func(lf *logFile) func([]byte, int64) error {
		return func(line []byte, at int64) error { return r.line(lf, line, at) }
	}
	if follow && len(r.files) == 0 {
		files, err := openAfter(r.dir, fileID{}, r.seq)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		r.files, r.seq = files, r.seq+len(files)
	}
	for len(r.files) > 0 {
		lf := r.files[0]
		if err := r.scan(ctx, lf, fn(lf)); err != nil {
			return err
		}
		if follow && len(r.files) == 1 {
			newer, err := openAfter(r.dir, lf.id, r.seq)
			if err != nil && !errors.Is(err, os.ErrNotExist) {
				return err
			}
			// A removed directory has nothing newer; the open file
			// is still read to its end.
			if len(newer) == 0 {
				break
			}
			r.files, r.seq = append(r.files, newer...), r.seq+len(newer)
			if err := r.scan(ctx, lf, fn(lf)); err != nil {
				return err
			}
		}
		// lf is complete; an unfinished line at its end is torn.
		lf.f.Close()
		r.files = r.files[1:]
	}
	return r.out.flush()
}

package layer

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"sync"
	"sync/atomic"
)

const (
	chunkSize   = 256 << 10
	chunkCount  = 4
	captureSize = 8 << 20 // more than archive/tar lets one entry's headers take
)

// errCaptureOverflow means an entry's headers were larger than the capture
// keeps; archive/tar's own limits make this unreachable in practice.
var errCaptureOverflow = errors.New("entry headers exceed capture buffer")

// tap is the reader archive/tar parses from. Every byte it pulls from the
// decompressed stream goes, a chunk at a time, to the sink (hashed and
// appended to the .tar) whether or not the parser ever asks for it: bytes
// after the end-of-archive are part of the DiffID. pos counts the bytes handed
// to the parser, which is the stream offset of whatever it reads next, since
// archive/tar never reads ahead.
//
// The tap also keeps a copy of the bytes at offsets >= capFrom: the headers of
// the next entry, from which the sparse map archive/tar keeps private is read.
type tap struct {
	ctx  context.Context
	src  io.Reader
	sink *sink

	cur   []byte // unread part of the current chunk
	pos   int64  // bytes handed to the parser
	total int64  // bytes pulled from src
	err   error  // sticky: src's io.EOF or any failure

	capFrom  int64
	captured []byte
	capOver  bool
}

func newTap(ctx context.Context, src io.Reader, w io.Writer) *tap {
	return &tap{ctx: ctx, src: src, sink: newSink(w)}
}

func (t *tap) Read(p []byte) (int, error) {
	for len(t.cur) == 0 {
		if t.err != nil {
			return 0, t.err
		}
		t.refill()
	}
	n := copy(p, t.cur)
	t.capture(t.cur[:n])
	t.cur = t.cur[n:]
	t.pos += int64(n)
	return n, nil
}

// Seek lets archive/tar skip an entry's data without copying it: only
// forward moves from the current position are possible, and the skipped
// bytes still reach the sink whole. A skip that runs past the end of the
// stream fails with io.ErrUnexpectedEOF.
func (t *tap) Seek(offset int64, whence int) (int64, error) {
	if whence != io.SeekCurrent || offset < 0 {
		return t.pos, errors.New("tap: only forward seeks from the current position")
	}
	for offset > 0 {
		if len(t.cur) == 0 {
			if t.err != nil {
				if t.err == io.EOF {
					return t.pos, io.ErrUnexpectedEOF
				}
				return t.pos, t.err
			}
			t.refill()
			continue
		}
		n := int(min(offset, int64(len(t.cur))))
		t.capture(t.cur[:n])
		t.cur = t.cur[n:]
		t.pos += int64(n)
		offset -= int64(n)
	}
	return t.pos, nil
}

// capture keeps the part of b (which starts at t.pos) at offsets >= capFrom.
func (t *tap) capture(b []byte) {
	end := t.pos + int64(len(b))
	if end <= t.capFrom || t.capOver {
		return
	}
	if t.pos < t.capFrom {
		b = b[t.capFrom-t.pos:]
	}
	if len(t.captured)+len(b) > captureSize {
		t.capOver = true
		return
	}
	t.captured = append(t.captured, b...)
}

// captureFrom starts a new capture at stream offset off.
func (t *tap) captureFrom(off int64) {
	t.capFrom = off
	t.captured = t.captured[:0]
	t.capOver = false
}

// refill pulls the next chunk; it sets t.err at the end of src or on failure.
func (t *tap) refill() {
	if err := t.ctx.Err(); err != nil {
		t.err = err
		return
	}
	if err := t.sink.failed(); err != nil {
		t.err = err
		return
	}
	buf := t.sink.buffer(t.total)
	n, err := fill(t.src, buf)
	if n > 0 {
		t.total += int64(n)
		t.sink.work <- buf[:n]
		t.cur = buf[:n]
	} else {
		t.sink.free <- buf
	}
	if err != nil {
		t.err = err
	}
}

// fill reads into buf until it is full or src ends. Unlike io.ReadFull it
// keeps src's own errors apart from its end: a decompressor reports a cut
// stream as io.ErrUnexpectedEOF.
func fill(src io.Reader, buf []byte) (int, error) {
	n, empty := 0, 0
	for n < len(buf) {
		m, err := src.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
		if m > 0 {
			empty = 0
		} else if empty++; empty >= 100 {
			return n, io.ErrNoProgress // as bufio gives up on a reader that never moves
		}
	}
	return n, nil
}

// drain pulls the rest of the stream (trailing garbage or padding after the
// end-of-archive) through the sink, and waits for it: then total is the
// stream's size and sum its sha256.
func (t *tap) drain() (sum []byte, err error) {
	for t.err == nil {
		t.cur = nil
		t.refill()
	}
	t.cur = nil
	if t.err != io.EOF {
		t.sink.stop()
		return nil, t.err
	}
	return t.sink.finish()
}

// abort stops the sink's goroutine after a failure.
func (t *tap) abort() { t.sink.stop() }

// sink hashes chunks and appends them to the .tar on its own goroutine, so
// that hashing and writing overlap decompression and parsing.
type sink struct {
	free chan []byte
	work chan []byte
	made int // chunks made so far, at most chunkCount
	done chan struct{}
	once sync.Once
	h    hash.Hash
	w    io.Writer
	err  atomic.Pointer[error]
}

func newSink(w io.Writer) *sink {
	s := &sink{
		free: make(chan []byte, chunkCount),
		work: make(chan []byte, chunkCount),
		done: make(chan struct{}),
		h:    sha256.New(),
		w:    w,
	}
	go s.run()
	return s
}

// buffer returns a chunk to fill. Chunks are made on demand, small while
// the stream is small (most layers are a few KiB to MiB, and fuzzing makes
// thousands a second), full-size once read bytes outgrow them.
func (s *sink) buffer(read int64) []byte {
	want := int(min(max(read, 16<<10), chunkSize))
	var buf []byte
	select {
	case buf = <-s.free:
	default:
		if s.made < chunkCount {
			s.made++
			return make([]byte, want)
		}
		buf = <-s.free
	}
	if cap(buf) < want {
		return make([]byte, want)
	}
	return buf[:cap(buf)]
}

func (s *sink) run() {
	defer close(s.done)
	for b := range s.work {
		if s.err.Load() == nil {
			s.h.Write(b)
			if _, err := s.w.Write(b); err != nil {
				err = fmt.Errorf("write layer tar: %w", err)
				s.err.Store(&err)
			}
		}
		s.free <- b[:cap(b)]
	}
}

func (s *sink) failed() error {
	if p := s.err.Load(); p != nil {
		return *p
	}
	return nil
}

func (s *sink) stop() {
	s.once.Do(func() { close(s.work) })
	<-s.done
}

func (s *sink) finish() ([]byte, error) {
	s.stop()
	if err := s.failed(); err != nil {
		return nil, err
	}
	return s.h.Sum(nil), nil
}

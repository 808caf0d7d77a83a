package layer

import (
	"fmt"
	"io"
	"sort"
	"unsafe"
)

func (l *Layer) extent(i uint32) Extent {
	x := l.exts[int(i)*extSize:]
	return Extent{Off: int64(le.Uint64(x[0:])), TarOff: int64(le.Uint64(x[8:])), Len: int64(le.Uint64(x[16:]))}
}

// Extents returns a regular file's data extents in logical order: one for
// a non-sparse file with data, none for an empty file or another kind. The
// slice aliases the mapping: read it, never write to it.
func (l *Layer) Extents(id ID) []Extent {
	if !l.ok(id) {
		return nil
	}
	r := l.rec(id)
	at, n := le.Uint32(r[eExtIdx:]), le.Uint32(r[eExtN:])
	if n == 0 {
		return nil
	}
	if littleEndian {
		b := l.exts[int(at)*extSize:]
		return unsafe.Slice((*Extent)(unsafe.Pointer(&b[0])), n)
	}
	out := make([]Extent, n)
	for i := range out {
		out[i] = l.extent(at + uint32(i))
	}
	return out
}

// ReadAt reads id's logical content at off, as io.ReaderAt: holes of a
// sparse file read as zeros, and a read that ends at or past the size
// returns io.EOF with what there was.
func (l *Layer) ReadAt(id ID, p []byte, off int64) (int, error) {
	if !l.ok(id) {
		return 0, fmt.Errorf("read layer entry %d: no such entry", id)
	}
	r := l.rec(id)
	if Kind(r[eKind]) != KindReg {
		return 0, fmt.Errorf("read %s: not a regular file", l.Path(id))
	}
	if off < 0 {
		return 0, fmt.Errorf("read %s: negative offset %d", l.Path(id), off)
	}
	size := int64(le.Uint64(r[eSize:]))
	if off >= size {
		return 0, io.EOF
	}
	want := p
	if int64(len(want)) > size-off {
		want = want[:size-off]
	}
	at, n := le.Uint32(r[eExtIdx:]), le.Uint32(r[eExtN:])
	if n == 1 && r[eFlags]&fSparse == 0 {
		// The common case: one extent from 0 covering the file.
		e := l.extent(at)
		got, err := l.tar.ReadAt(want, e.TarOff+off)
		return l.done(id, got, len(want), len(p), err)
	}
	// Sparse: zeros, then the extents that overlap [off, off+len(want)).
	clear(want)
	end := off + int64(len(want))
	i := uint32(sort.Search(int(n), func(k int) bool {
		e := l.extent(at + uint32(k))
		return e.Off+e.Len > off
	}))
	for ; i < n; i++ {
		e := l.extent(at + i)
		if e.Off >= end {
			break
		}
		lo, hi := max(e.Off, off), min(e.Off+e.Len, end)
		got, err := l.tar.ReadAt(want[lo-off:hi-off], e.TarOff+(lo-e.Off))
		if int64(got) != hi-lo {
			return l.done(id, int(lo-off)+got, len(want), len(p), err)
		}
	}
	return l.done(id, len(want), len(want), len(p), nil)
}

// done finishes a ReadAt that got bytes of want (asked for asked): io.EOF
// when the file ended first. The tar was checked at Open to hold every
// extent, so a short read from it is an error, not an end of file.
func (l *Layer) done(id ID, got, want, asked int, err error) (int, error) {
	if got < want {
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return got, fmt.Errorf("read %s from layer tar: %w", l.Path(id), err)
	}
	if want < asked {
		return got, io.EOF
	}
	return got, nil
}

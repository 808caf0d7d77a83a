package layer

import (
	"archive/tar"
	"fmt"
	"io"
)

// index parses the tar as it streams through t and builds the tree. It
// stops at the end-of-archive; the caller drains what follows.
func index(t *tap, b *builder) error {
	tr := tar.NewReader(t)
	next := int64(0) // where the next entry's first header starts
	for {
		if err := t.ctx.Err(); err != nil {
			return err
		}
		t.captureFrom(next)
		h, err := tr.Next()
		if err == tar.ErrInsecurePath && h != nil {
			err = nil // GODEBUG=tarinsecurepath=0: names are cleaned here anyway
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			if t.err != nil && t.err != io.EOF {
				// The context, the decompressor or the sink failed.
				return fmt.Errorf("read layer stream: %w", t.err)
			}
			return fmt.Errorf("read tar header at offset %d: %w", next, err)
		}
		dataOff := t.pos
		stored, err := addEntry(b, h, t, next, dataOff)
		if err != nil {
			return fmt.Errorf("index tar entry %.200q at offset %d: %w", h.Name, next, err)
		}
		next = roundBlock(dataOff + stored)
	}
}

// addEntry adds one header to the tree and returns how many data bytes the
// entry stores from dataOff (archive/tar skips them in its next Next).
func addEntry(b *builder, h *tar.Header, t *tap, hdrOff, dataOff int64) (int64, error) {
	stored := h.Size
	switch h.Typeflag {
	case tar.TypeLink, tar.TypeSymlink, tar.TypeChar, tar.TypeBlock, tar.TypeDir, tar.TypeFifo:
		stored = 0 // archive/tar ignores the size of these
	case tar.TypeXGlobalHeader:
		stored = 0 // archive/tar consumed its records already
	}
	e, ok, skip := entryOf(h)
	var sparse []Extent
	f := sparseFormatOf(h)
	if f != notSparse {
		// Parsed even for an entry that is dropped: its stored size says
		// where the next header starts.
		if t.capOver {
			return 0, errCaptureOverflow
		}
		var err error
		sparse, stored, err = sparseData(h, f, t.captured, hdrOff, dataOff)
		if err != nil {
			return 0, err
		}
	}
	if skip {
		return stored, nil
	}
	if !ok {
		b.dropped++
		return stored, nil
	}
	if e.kind == KindReg {
		e.in.extOff = int32(len(b.exts))
		switch {
		case f != notSparse:
			e.in.sparse = true
			b.exts = append(b.exts, sparse...)
		case h.Size > 0:
			b.exts = append(b.exts, Extent{Off: 0, TarOff: dataOff, Len: h.Size})
		}
		e.in.extN = int32(len(b.exts)) - e.in.extOff
		if len(b.exts) > maxExtents {
			return 0, fmt.Errorf("more than %d data extents: %w", maxExtents, ErrLimit)
		}
	}
	return stored, b.add(&e)
}

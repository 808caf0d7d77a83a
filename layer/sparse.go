package layer

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// archive/tar expands GNU sparse files but keeps their maps private, so the
// maps are read again here from the header bytes the tap captured (the
// bytes archive/tar itself consumed for the entry: its PAX and GNU long-name
// headers, the main header, old-GNU extension blocks and, for PAX 1.0, the map
// blocks at the head of the data). archive/tar has already checked those
// headers; everything is still bounds-checked, since a mismatch must be an
// error, never a panic or a wrong offset.

const blockSize = 512

// sparseFormat is the GNU sparse format archive/tar took an entry to be in.
type sparseFormat int

const (
	notSparse sparseFormat = iota
	sparseOldGNU
	sparsePAX0 // 0.0 and 0.1: the map is in the PAX records
	sparsePAX1 // 1.0: the map is in blocks at the head of the data
)

var errSparse = errors.New("sparse map does not match the entry")

// sparseFormatOf mirrors archive/tar's own decision (reader.go,
// handleSparseFile and readGNUSparsePAXHeaders).
func sparseFormatOf(h *tar.Header) sparseFormat {
	if h.Typeflag == tar.TypeGNUSparse {
		return sparseOldGNU
	}
	major, minor := h.PAXRecords["GNU.sparse.major"], h.PAXRecords["GNU.sparse.minor"]
	switch {
	case major == "0" && (minor == "0" || minor == "1"):
		return sparsePAX0
	case major == "1" && minor == "0":
		return sparsePAX1
	case major != "" || minor != "":
		return notSparse
	case h.PAXRecords["GNU.sparse.map"] != "":
		return sparsePAX0
	}
	return notSparse
}

// frag is a data fragment of a sparse file, as its map lists it.
type frag struct{ off, len int64 }

// sparseData returns the extents of a sparse entry whose headers were
// captured from stream offset capStart and whose data (after any map blocks)
// starts at dataOff, and the number of data bytes stored from dataOff.
func sparseData(h *tar.Header, f sparseFormat, captured []byte, capStart, dataOff int64) ([]Extent, int64, error) {
	main, err := mainHeader(captured)
	if err != nil {
		return nil, 0, err
	}
	stored, err := storedSize(h, captured[main:main+blockSize])
	if err != nil {
		return nil, 0, err
	}
	headEnd := capStart + int64(main) + blockSize // stream offset after the main header
	var frags []frag
	switch f {
	case sparseOldGNU:
		var end int
		frags, end, err = oldGNUMap(captured, main)
		if err == nil && capStart+int64(end) != dataOff {
			err = fmt.Errorf("%w: extension blocks end at %d, data at %d", errSparse, capStart+int64(end), dataOff)
		}
	case sparsePAX0:
		if headEnd != dataOff {
			err = fmt.Errorf("%w: header ends at %d, data at %d", errSparse, headEnd, dataOff)
			break
		}
		frags, err = pax0Map(h.PAXRecords["GNU.sparse.numblocks"], h.PAXRecords["GNU.sparse.map"])
	case sparsePAX1:
		mapLen := dataOff - headEnd
		if mapLen < 0 || mapLen > int64(len(captured)-main-blockSize) {
			err = fmt.Errorf("%w: map blocks end at %d before header end %d", errSparse, dataOff, headEnd)
			break
		}
		stored -= mapLen
		frags, err = pax1Map(captured[main+blockSize : main+blockSize+int(mapLen)])
	default:
		err = fmt.Errorf("%w: unknown sparse format %d", errSparse, f)
	}
	if err != nil {
		return nil, 0, err
	}
	exts, err := fragsToExtents(frags, h.Size, stored, dataOff)
	if err != nil {
		return nil, 0, err
	}
	return exts, stored, nil
}

// mainHeader walks the meta headers ('x', 'g', 'L', 'K') at the start of
// captured and returns the offset of the entry's own header block.
func mainHeader(captured []byte) (int, error) {
	off := 0
	for {
		if len(captured)-off < blockSize {
			return 0, fmt.Errorf("%w: headers cut at %d bytes", errSparse, len(captured))
		}
		blk := captured[off : off+blockSize]
		switch blk[156] {
		case tar.TypeXHeader, tar.TypeXGlobalHeader, tar.TypeGNULongName, tar.TypeGNULongLink:
			n, err := parseNumeric(blk[124:136])
			if err != nil || n < 0 || n > int64(len(captured)) {
				return 0, fmt.Errorf("%w: meta header size at %d", errSparse, off)
			}
			off += blockSize + int(roundBlock(n))
		default:
			return off, nil
		}
	}
}

// storedSize is the size archive/tar gave the entry's data section: a PAX
// "size" record if there is one, else the header's size field.
func storedSize(h *tar.Header, blk []byte) (int64, error) {
	var n int64
	var err error
	if v := h.PAXRecords["size"]; v != "" {
		n, err = strconv.ParseInt(v, 10, 64)
	} else {
		n, err = parseNumeric(blk[124:136])
	}
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%w: stored size", errSparse)
	}
	return n, nil
}

// oldGNUMap reads the map of a GNU 'S' header at captured[main:] and its
// extension blocks; end is the offset just after the last block.
func oldGNUMap(captured []byte, main int) (frags []frag, end int, err error) {
	// Main header: 4 entries of (offset, length) at 386, isextended at 482.
	area, n := captured[main+386:main+386+4*24+1], 4
	end = main + blockSize
	for {
		for i := range n {
			e := area[i*24 : i*24+24]
			if e[0] == 0 {
				break // as GNU tar, BSD tar and archive/tar end the list
			}
			off, err1 := parseNumeric(e[:12])
			l, err2 := parseNumeric(e[12:24])
			if err1 != nil || err2 != nil {
				return nil, 0, fmt.Errorf("%w: old GNU map entry", errSparse)
			}
			if len(frags) >= maxFragsPerFile {
				return nil, 0, fmt.Errorf("sparse map over %d fragments: %w", maxFragsPerFile, ErrLimit)
			}
			frags = append(frags, frag{off, l})
		}
		if area[n*24] == 0 {
			return frags, end, nil
		}
		// Extension block: 21 entries, isextended at 504.
		if len(captured)-end < blockSize {
			return nil, 0, fmt.Errorf("%w: extension block cut", errSparse)
		}
		area, n = captured[end:end+21*24+1], 21
		end += blockSize
	}
}

// pax0Map parses GNU.sparse.map ("off,len,off,len…"); archive/tar has
// already folded the 0.0 format's repeated offset/numbytes records into it.
func pax0Map(numblocks, m string) ([]frag, error) {
	n, err := strconv.ParseInt(numblocks, 10, 64)
	if err != nil || n < 0 || n > maxFragsPerFile {
		return nil, fmt.Errorf("%w: GNU.sparse.numblocks %q", errSparse, numblocks)
	}
	var fields []string
	if m != "" {
		fields = strings.Split(m, ",")
	}
	if int64(len(fields)) != 2*n {
		return nil, fmt.Errorf("%w: GNU.sparse.map has %d numbers for %d blocks", errSparse, len(fields), n)
	}
	frags := make([]frag, 0, n)
	for i := 0; i < len(fields); i += 2 {
		off, err1 := strconv.ParseInt(fields[i], 10, 64)
		l, err2 := strconv.ParseInt(fields[i+1], 10, 64)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("%w: GNU.sparse.map entry %d", errSparse, i/2)
		}
		frags = append(frags, frag{off, l})
	}
	return frags, nil
}

// pax1Map parses the 1.0 map: newline-terminated decimal numbers, the count
// first, then offset and length of each fragment, padded to whole blocks.
func pax1Map(b []byte) ([]frag, error) {
	next := func() (int64, error) {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			return 0, fmt.Errorf("%w: 1.0 map cut", errSparse)
		}
		v, err := strconv.ParseInt(string(b[:i]), 10, 64)
		b = b[i+1:]
		if err != nil {
			return 0, fmt.Errorf("%w: 1.0 map number", errSparse)
		}
		return v, nil
	}
	n, err := next()
	if err != nil {
		return nil, err
	}
	if n < 0 || n > maxFragsPerFile {
		return nil, fmt.Errorf("%w: 1.0 map of %d fragments", errSparse, n)
	}
	frags := make([]frag, 0, min(n, int64(len(b))/4))
	for range n {
		off, err := next()
		if err != nil {
			return nil, err
		}
		l, err := next()
		if err != nil {
			return nil, err
		}
		frags = append(frags, frag{off, l})
	}
	return frags, nil
}

// fragsToExtents checks a map as archive/tar does (in order, no overlap,
// within size) and that it accounts for exactly the stored bytes, and places
// the fragments one after another from dataOff. Empty fragments (GNU tar ends
// a file that ends in a hole with one) are left out.
func fragsToExtents(frags []frag, size, stored, dataOff int64) ([]Extent, error) {
	var exts []Extent
	var prevEnd, sum int64
	for _, f := range frags {
		switch {
		case f.off < 0 || f.len < 0 || f.off > math.MaxInt64-f.len:
			return nil, fmt.Errorf("%w: fragment %d+%d", errSparse, f.off, f.len)
		case f.off+f.len > size:
			return nil, fmt.Errorf("%w: fragment %d+%d beyond size %d", errSparse, f.off, f.len, size)
		case f.off < prevEnd:
			return nil, fmt.Errorf("%w: fragment %d overlaps or is out of order", errSparse, f.off)
		}
		prevEnd = f.off + f.len
		if f.len == 0 {
			continue
		}
		if sum > stored-f.len {
			return nil, fmt.Errorf("%w: map holds more than the %d bytes stored", errSparse, stored)
		}
		exts = append(exts, Extent{Off: f.off, TarOff: dataOff + sum, Len: f.len})
		sum += f.len
	}
	if sum != stored {
		return nil, fmt.Errorf("%w: map holds %d bytes, entry stores %d", errSparse, sum, stored)
	}
	return exts, nil
}

func roundBlock(n int64) int64 { return (n + blockSize - 1) &^ (blockSize - 1) }

// parseNumeric decodes a tar numeric field as archive/tar does: base-256
// when the high bit is set, else octal padded with spaces or NULs.
func parseNumeric(b []byte) (int64, error) {
	if len(b) > 0 && b[0]&0x80 != 0 {
		var inv byte
		if b[0]&0x40 != 0 {
			inv = 0xff
		}
		var x uint64
		for i, c := range b {
			c ^= inv
			if i == 0 {
				c &= 0x7f
			}
			if x>>56 > 0 {
				return 0, errSparse
			}
			x = x<<8 | uint64(c)
		}
		if x>>63 > 0 {
			return 0, errSparse
		}
		if inv == 0xff {
			return ^int64(x), nil
		}
		return int64(x), nil
	}
	b = bytes.Trim(b, " \x00")
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	if len(b) == 0 {
		return 0, nil
	}
	x, err := strconv.ParseUint(string(b), 8, 64)
	if err != nil {
		return 0, errSparse
	}
	return int64(x), nil
}

package image

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

var (
	gzipMagic = []byte{0x1f, 0x8b}
	zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}
)

// openSource opens what path names: a directory, or an archive tar (plain,
// or compressed with gzip or zstd as docker load accepts it; also a pipe).
func (s *Store) openSource(ctx context.Context, p string) (source, error) {
	fi, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		return openDir(p)
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		defer f.Close()
		return s.spoolSource(ctx, f)
	}
	var magic [4]byte
	n, err := io.ReadFull(f, magic[:])
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		f.Close()
		return nil, err
	}
	if compressed(magic[:n]) {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			f.Close()
			return nil, err
		}
		defer f.Close()
		return s.spoolSource(ctx, f)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		f.Close()
		return nil, err
	}
	src, err := indexTar(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	return src, nil
}

func compressed(magic []byte) bool {
	return bytes.HasPrefix(magic, gzipMagic) || bytes.HasPrefix(magic, zstdMagic)
}

// spoolSource copies a stream (decompressed when it is gzip or zstd) into
// an unnamed temporary file in the store, where its members can be read in
// any order, and indexes it. The file is unlinked at once, so nothing is
// left behind whatever happens.
func (s *Store) spoolSource(ctx context.Context, r io.Reader) (source, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	magic, err := br.Peek(len(zstdMagic))
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("read archive: %w", err)
	}
	var in io.Reader = br
	switch {
	case bytes.HasPrefix(magic, gzipMagic):
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("read gzip archive: %w", err)
		}
		defer zr.Close()
		in = zr
	case bytes.HasPrefix(magic, zstdMagic):
		zr, err := zstd.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("read zstd archive: %w", err)
		}
		defer zr.Close()
		in = zr
	}
	f, err := os.CreateTemp(s.root, spoolPrefix+"*.tmp")
	if err != nil {
		return nil, fmt.Errorf("spool archive: %w", err)
	}
	os.Remove(f.Name())
	if _, err := io.Copy(f, ctxReader{ctx, in}); err != nil {
		f.Close()
		return nil, fmt.Errorf("spool archive: %w", err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		f.Close()
		return nil, fmt.Errorf("spool archive: %w", err)
	}
	src, err := indexTar(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	return src, nil
}

// spoolPrefix starts the names of spooled archives (unlinked at once; a
// name lingers only if nook dies between creating and unlinking).
const spoolPrefix = ".spool-"

// ctxReader stops a copy when ctx is cancelled.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

package layer

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Create reads a layer tar stream — plain, gzip or zstd, detected by magic
// bytes — and writes dir/<hex>.tar (the uncompressed stream, byte for byte)
// and dir/<hex>.idx, where <hex> is the sha256 of the uncompressed stream
// (the DiffID), in one pass. Both are written under temporary names and
// renamed into place once complete, synced and checked by opening them, the
// .idx last. On any error nothing is left behind.
func Create(ctx context.Context, r io.Reader, dir string, opts ...Option) (Info, error) {
	o := defaultOptions()
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return Info{}, fmt.Errorf("create layer in %s: %w", dir, err)
		}
	}
	c := &creation{dir: dir}
	info, err := c.run(ctx, r, &o)
	if err != nil {
		c.cleanup()
		return Info{}, fmt.Errorf("create layer in %s: %w", dir, err)
	}
	return info, nil
}

// creation holds the temporary files of one Create.
type creation struct {
	dir      string
	tar, idx *os.File
}

func (c *creation) run(ctx context.Context, r io.Reader, o *options) (Info, error) {
	var err error
	if c.tar, err = tempFile(c.dir, ".layer-*.tar.tmp"); err != nil {
		return Info{}, err
	}
	src, closeSrc, err := decompress(r)
	if err != nil {
		return Info{}, err
	}
	defer closeSrc()
	t := newTap(ctx, src, c.tar)
	b := newBuilder(o.maxEntries)
	if err := index(t, b); err != nil {
		t.abort()
		return Info{}, err
	}
	sum, err := t.drain()
	if err != nil {
		return Info{}, fmt.Errorf("read layer stream: %w", err)
	}
	diffID := "sha256:" + hex.EncodeToString(sum)
	if o.want != nil && !bytes.Equal(o.want, sum) {
		return Info{}, fmt.Errorf("stream is %s, want sha256:%x: %w", diffID, o.want, ErrDigestMismatch)
	}
	idx, err := b.encode(t.total, sum)
	if err != nil {
		return Info{}, err
	}
	if c.idx, err = tempFile(c.dir, ".layer-*.idx.tmp"); err != nil {
		return Info{}, err
	}
	if _, err := c.idx.Write(idx); err != nil {
		return Info{}, fmt.Errorf("write index: %w", err)
	}
	for _, f := range []*os.File{c.tar, c.idx} {
		if o.noSync {
			break
		}
		if err := f.Sync(); err != nil {
			return Info{}, fmt.Errorf("sync %s: %w", f.Name(), err)
		}
	}
	// Check the pair as every reader will before it becomes visible.
	l, err := OpenFiles(c.tar.Name(), c.idx.Name())
	if err != nil {
		return Info{}, fmt.Errorf("check new index: %w", err)
	}
	n := l.Len()
	l.Close()
	if err := c.commit(hex.EncodeToString(sum), !o.noSync); err != nil {
		return Info{}, err
	}
	return Info{DiffID: diffID, Size: t.total, Entries: n, Dropped: b.dropped}, nil
}

// tempFile creates a temporary file readable by all, as a layer is public
// image data (os.CreateTemp makes it 0600).
func tempFile(dir, pattern string) (*os.File, error) {
	f, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return nil, err
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	return f, nil
}

// commit renames the tar, then the index, into place and syncs the
// directory so the names survive a crash.
func (c *creation) commit(hexSum string, sync bool) error {
	base := filepath.Join(c.dir, hexSum)
	for _, f := range []*os.File{c.tar, c.idx} {
		if err := f.Close(); err != nil {
			return fmt.Errorf("close %s: %w", f.Name(), err)
		}
	}
	if err := os.Rename(c.tar.Name(), base+".tar"); err != nil {
		return err
	}
	c.tar = nil // in place now; only the index is temporary
	if err := os.Rename(c.idx.Name(), base+".idx"); err != nil {
		return err
	}
	c.idx = nil
	if !sync {
		return nil
	}
	d, err := os.Open(c.dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return fmt.Errorf("sync %s: %w", c.dir, err)
	}
	return nil
}

// cleanup removes whatever temporary file is left after a failure.
func (c *creation) cleanup() {
	for _, f := range []*os.File{c.tar, c.idx} {
		if f != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}
}

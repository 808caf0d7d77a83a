package layer

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// Layer is an opened .tar/.idx pair. It is read-only and safe for use by many
// goroutines at once; Close must come after every other call has returned.
type Layer struct {
	idx  []byte // the mapped index
	tar  *os.File
	n    uint32
	ents []byte // entry records
	exts []byte // extent records
	xats []byte // xattr records
	lnks []byte // link group IDs
	strs []byte
	tsz  int64
	sum  [32]byte
}

// Exists reports whether dir holds a complete pair for diffID: the .idx is
// renamed into place last, so its presence means the .tar is complete.
func Exists(dir, diffID string) bool {
	raw, err := parseDiffID(diffID)
	if err != nil {
		return false
	}
	base := filepath.Join(dir, hex.EncodeToString(raw))
	if _, err := os.Stat(base + ".idx"); err != nil {
		return false
	}
	_, err = os.Stat(base + ".tar")
	return err == nil
}

// Open opens dir/<hex>.tar and dir/<hex>.idx for diffID ("sha256:<hex>").
func Open(dir, diffID string) (*Layer, error) {
	raw, err := parseDiffID(diffID)
	if err != nil {
		return nil, fmt.Errorf("open layer: %w", err)
	}
	base := filepath.Join(dir, hex.EncodeToString(raw))
	l, err := OpenFiles(base+".tar", base+".idx")
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(l.sum[:], raw) {
		l.Close()
		return nil, fmt.Errorf("open layer %s: index is for sha256:%x: %w", diffID, l.sum, ErrCorrupt)
	}
	return l, nil
}

// OpenFiles maps idxPath (read-only, shared, so that every user of a layer
// shares one copy in the page cache), checks it completely and opens tarPath.
// A truncated or corrupt pair fails with an error wrapping ErrCorrupt. The
// files must not change while open (the store never rewrites them; Create
// replaces a pair by rename, which open layers do not see): an index
// truncated under its mapping would fault on access.
func OpenFiles(tarPath, idxPath string) (*Layer, error) {
	l, err := openFiles(tarPath, idxPath)
	if err != nil {
		return nil, fmt.Errorf("open layer index %s: %w", idxPath, err)
	}
	return l, nil
}

func openFiles(tarPath, idxPath string) (*Layer, error) {
	f, err := os.Open(idxPath)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if fi.Size() < hdrSize {
		return nil, fmt.Errorf("%d bytes, shorter than the header: %w", fi.Size(), ErrCorrupt)
	}
	if fi.Size() != int64(int(fi.Size())) {
		return nil, fmt.Errorf("%d bytes: %w", fi.Size(), ErrCorrupt)
	}
	m, err := unix.Mmap(int(f.Fd()), 0, int(fi.Size()), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("map index: %w", err)
	}
	l := &Layer{idx: m}
	if err := l.parse(); err != nil {
		l.unmap()
		return nil, err
	}
	t, err := os.Open(tarPath)
	if err != nil {
		l.unmap()
		return nil, err
	}
	tfi, err := t.Stat()
	if err != nil {
		t.Close()
		l.unmap()
		return nil, err
	}
	if tfi.Size() != l.tsz {
		t.Close()
		l.unmap()
		return nil, fmt.Errorf("tar %s is %d bytes, index says %d: %w", tarPath, tfi.Size(), l.tsz, ErrCorrupt)
	}
	l.tar = t
	return l, nil
}

func (l *Layer) unmap() {
	if l.idx != nil {
		unix.Munmap(l.idx)
		l.idx = nil
	}
}

// Close unmaps the index and closes the tar. Strings and slices the layer
// handed out are invalid afterwards.
func (l *Layer) Close() error {
	l.unmap()
	l.ents, l.exts, l.xats, l.lnks, l.strs, l.n = nil, nil, nil, nil, nil, 0
	if l.tar == nil {
		return nil
	}
	err := l.tar.Close()
	l.tar = nil
	return err
}

// DiffID is the digest of the tar the index was built from.
func (l *Layer) DiffID() string { return fmt.Sprintf("sha256:%x", l.sum) }

// Tar is the layer's tar, for pread and copy_file_range at Extent offsets.
// It belongs to the Layer: do not close it or move its file offset.
func (l *Layer) Tar() *os.File { return l.tar }

// Len is the number of entries; IDs run from 0 to Len()-1.
func (l *Layer) Len() int { return int(l.n) }

package testregistry

import (
	"archive/tar"
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/nookrun/nook/image/imagetest"
)

// LayerSpec describes a generated layer: Files regular files of FileSize
// bytes each, named DIR/00000, DIR/00001, ..., in directory Dir, owned by
// root, mode 0644, dated imagetest.Created. Their bytes come from a
// ChaCha8 stream seeded with Seed, so one spec always gives one digest.
type LayerSpec struct {
	Dir      string // relative, e.g. "data/big"
	Files    int
	FileSize int64
	// Text makes the bytes lowercase hex (gzip gets them to about half
	// their size, so the puller has real inflating to do); otherwise they
	// are raw and incompressible.
	Text bool
	Seed uint64
}

// Size is the bytes of file content the layer holds.
func (s LayerSpec) Size() int64 { return int64(s.Files) * s.FileSize }

func (s LayerSpec) validate() error {
	clean := path.Clean(s.Dir)
	if s.Dir == "" || clean != s.Dir || path.IsAbs(s.Dir) || clean == "." || strings.HasPrefix(clean, "..") {
		return fmt.Errorf("layer directory %q: want a clean relative path", s.Dir)
	}
	if s.Files <= 0 || s.FileSize < 0 {
		return fmt.Errorf("layer of %d files of %d bytes: want at least one file and a size of 0 or more", s.Files, s.FileSize)
	}
	return nil
}

// WriteLayer generates the layer spec describes and writes it, gzipped, to
// path (through a temporary file renamed into place), and returns it as a
// layer that reads that file. Raw bytes are compressed at gzip's fastest
// level (incompressible data comes out as stored blocks at any level),
// text at the default level, as docker push compresses.
func WriteLayer(path string, spec LayerSpec) (v1.Layer, error) {
	if err := spec.validate(); err != nil {
		return nil, fmt.Errorf("write layer %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".layer-*")
	if err != nil {
		return nil, fmt.Errorf("write layer %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // gone after the rename
	l, err := writeLayer(tmp, spec)
	if cerr := tmp.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return nil, fmt.Errorf("write layer %s: %w", path, err)
	}
	l.path = path
	return partial.CompressedToLayer(l)
}

// writeLayer streams the layer's tar through gzip into f, hashing the tar
// (the DiffID) and the gzip stream (the digest) as they go.
func writeLayer(f *os.File, spec LayerSpec) (*fileLayer, error) {
	digest := sha256.New()
	compressed := &countingWriter{w: io.MultiWriter(f, digest)}
	level := gzip.BestSpeed
	if spec.Text {
		level = gzip.DefaultCompression
	}
	zw, err := gzip.NewWriterLevel(compressed, level)
	if err != nil {
		return nil, err
	}
	diffID := sha256.New()
	tw := tar.NewWriter(io.MultiWriter(zw, diffID))
	if err := writeFiles(tw, spec); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	if err := f.Sync(); err != nil {
		return nil, err
	}
	return &fileLayer{
		digest: sum(digest),
		diffID: sum(diffID),
		size:   compressed.n,
	}, nil
}

// writeFiles writes the spec's directories and files.
func writeFiles(tw *tar.Writer, spec LayerSpec) error {
	parts := strings.Split(spec.Dir, "/")
	for i := range parts {
		hdr := &tar.Header{
			Typeflag: tar.TypeDir,
			Name:     strings.Join(parts[:i+1], "/") + "/",
			Mode:     0o755,
			ModTime:  imagetest.Created,
			Format:   tar.FormatPAX,
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
	}
	var seed [32]byte
	binary.LittleEndian.PutUint64(seed[:], spec.Seed)
	src := contentReader(rand.NewChaCha8(seed), spec.Text)
	for i := range spec.Files {
		hdr := &tar.Header{
			Typeflag: tar.TypeReg,
			Name:     fmt.Sprintf("%s/%05d", spec.Dir, i),
			Mode:     0o644,
			Size:     spec.FileSize,
			ModTime:  imagetest.Created,
			Format:   tar.FormatPAX,
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if _, err := io.CopyN(tw, src, spec.FileSize); err != nil {
			return err
		}
	}
	return nil
}

// contentReader reads the ChaCha8 stream, raw or as hex.
func contentReader(c *rand.ChaCha8, text bool) io.Reader {
	if !text {
		return c
	}
	return &hexReader{r: c}
}

// hexReader turns half a buffer of random bytes into a full buffer of
// lowercase hex.
type hexReader struct {
	r   io.Reader
	raw []byte
}

func (h *hexReader) Read(p []byte) (int, error) {
	n := len(p) / 2
	if n == 0 {
		return 0, errors.New("hex reader: buffer of one byte")
	}
	if cap(h.raw) < n {
		h.raw = make([]byte, n)
	}
	raw := h.raw[:n]
	if _, err := io.ReadFull(h.r, raw); err != nil {
		return 0, err
	}
	return hex.Encode(p, raw), nil
}

func sum(h hash.Hash) v1.Hash {
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(h.Sum(nil))}
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// fileLayer is a gzipped layer in a file whose digests are known.
type fileLayer struct {
	path   string
	digest v1.Hash
	diffID v1.Hash
	size   int64
}

var _ partial.CompressedLayer = (*fileLayer)(nil)

func (l *fileLayer) Digest() (v1.Hash, error)            { return l.digest, nil }
func (l *fileLayer) DiffID() (v1.Hash, error)            { return l.diffID, nil }
func (l *fileLayer) Size() (int64, error)                { return l.size, nil }
func (l *fileLayer) MediaType() (types.MediaType, error) { return types.OCILayer, nil }
func (l *fileLayer) Compressed() (io.ReadCloser, error) {
	f, err := os.Open(l.path)
	if err != nil {
		return nil, fmt.Errorf("open layer: %w", err)
	}
	return f, nil
}

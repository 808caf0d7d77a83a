package image

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/nookrun/nook/internal/atomicfile"
)

// digestOf is the "sha256:<hex>" digest of data.
func digestOf(data []byte) string {
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// digestHex returns the hex of a "sha256:<64 lowercase hex>" digest, or ok
// false for anything else: only such digests may become file names.
func digestHex(d string) (h string, ok bool) {
	h, found := strings.CutPrefix(d, "sha256:")
	if !found || len(h) != 64 {
		return "", false
	}
	for _, c := range h {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return "", false
		}
	}
	return h, true
}

func (s *Store) blobPath(hexSum string) string {
	return filepath.Join(s.root, blobsDir, hexSum)
}

// putBlob stores data as the blob d after checking that it hashes to d; a
// blob already present is left alone.
func (s *Store) putBlob(d string, data []byte) error {
	h, ok := digestHex(d)
	if !ok {
		return fmt.Errorf("store blob %s: %w", d, ErrInvalidReference)
	}
	if got := digestOf(data); got != d {
		return fmt.Errorf("store blob %s: content is %s: %w", d, got, ErrDigestMismatch)
	}
	p := s.blobPath(h)
	if _, err := os.Stat(p); err == nil {
		return nil
	}
	if err := atomicfile.WriteFile(p, data, atomicfile.Options{Durable: true}); err != nil {
		return fmt.Errorf("store blob %s: %w", d, err)
	}
	return nil
}

// getBlob reads the blob d and checks its digest; a missing or damaged
// blob is ErrCorrupt.
func (s *Store) getBlob(d string) ([]byte, error) {
	h, ok := digestHex(d)
	if !ok {
		return nil, fmt.Errorf("read blob %q: %w", d, ErrCorrupt)
	}
	f, err := os.Open(s.blobPath(h))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read blob %s: missing: %w", d, ErrCorrupt)
	}
	if err != nil {
		return nil, fmt.Errorf("read blob %s: %w", d, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxConfig+1))
	if err != nil {
		return nil, fmt.Errorf("read blob %s: %w", d, err)
	}
	if got := digestOf(data); got != d {
		return nil, fmt.Errorf("read blob %s: content is %s: %w", d, got, ErrCorrupt)
	}
	return data, nil
}

package image

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// gc deletes the blobs and layers no image names, waiting until nobody
// holds the store (Load, Import, Hold).
func (s *Store) gc() error {
	unlock, err := s.gcLock(false)
	if err != nil {
		return err
	}
	defer unlock()
	return s.collect()
}

// collect deletes every blob and layer that images.json does not name,
// and the temporary files of interrupted writes. The caller has the
// gcLock, so no Load or Import is writing content that no image names
// yet, and no temporary file belongs to a live writer. If any image's
// config cannot be read, nothing is deleted: its layers are unknown.
func (s *Store) collect() error {
	ix, unlock, err := s.lockedIndex(true)
	if err != nil {
		return fmt.Errorf("collect garbage: %w", err)
	}
	defer unlock()
	keepBlobs := map[string]bool{}
	keepLayers := map[string]bool{}
	for _, r := range ix.Images {
		data, err := s.getBlob(r.ID)
		if err != nil {
			return fmt.Errorf("collect garbage: image %s: %w", r.ID, err)
		}
		cf, err := v1.ParseConfigFile(bytes.NewReader(data))
		if err != nil {
			return fmt.Errorf("collect garbage: image %s: %w: %v", r.ID, ErrCorrupt, err)
		}
		keepBlobs[strings.TrimPrefix(r.ID, "sha256:")] = true
		keepBlobs[strings.TrimPrefix(r.Manifest, "sha256:")] = true
		for _, d := range cf.RootFS.DiffIDs {
			keepLayers[d.Hex] = true
		}
	}
	var errs []string
	sweep := func(dir string, keep func(name string) bool) {
		entries, err := os.ReadDir(dir)
		if err != nil {
			errs = append(errs, err.Error())
			return
		}
		for _, e := range entries {
			if e.IsDir() || keep(e.Name()) {
				continue
			}
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil && !os.IsNotExist(err) {
				errs = append(errs, err.Error())
			}
		}
	}
	sweep(filepath.Join(s.root, blobsDir), func(n string) bool { return keepBlobs[n] })
	sweep(s.layers(), func(n string) bool {
		for _, ext := range []string{".tar", ".idx", pushedExt} {
			if h, ok := strings.CutSuffix(n, ext); ok && keepLayers[h] {
				return true
			}
		}
		return false
	})
	// The root's own temporary files: images.json's and spools.
	sweep(s.root, func(n string) bool {
		return !strings.HasSuffix(n, ".tmp") || !(strings.HasPrefix(n, "."+indexFile+"-") || strings.HasPrefix(n, spoolPrefix))
	})
	if len(errs) > 0 {
		return fmt.Errorf("collect garbage: %s", strings.Join(errs, "; "))
	}
	return nil
}

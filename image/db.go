package image

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/nookrun/nook/internal/atomicfile"
)

// index is images.json: every stored image by ID, with its names. An image
// without names stays until removed by ID (as Docker keeps a dangling
// image).
type index struct {
	Version int      `json:"version"`
	Images  []record `json:"images"`
}

// record is one image of images.json. Everything else about the image is
// in its config blob (named by the ID) and its manifest blob.
type record struct {
	ID       string   `json:"id"`       // "sha256:<hex>" of the config blob
	Manifest string   `json:"manifest"` // "sha256:<hex>" of the manifest blob
	Names    []string `json:"names,omitempty"`
	// Digests are "repository@sha256:..." of the manifests (and index)
	// a registry served the image as, Docker's RepoDigests.
	Digests []string  `json:"digests,omitempty"`
	Size    int64     `json:"size"`   // sum of the uncompressed layer sizes
	Stored  time.Time `json:"stored"` // when the image entered the store
}

const indexVersion = 1

// lockedIndex takes the store's lock (exclusive to change images.json,
// shared to read it) and reads images.json; unlock releases the lock.
func (s *Store) lockedIndex(exclusive bool) (ix *index, unlock func(), err error) {
	lock := s.readLock
	if exclusive {
		lock = s.writeLock
	}
	unlock, err = lock()
	if err != nil {
		return nil, nil, err
	}
	if ix, err = s.readIndex(); err != nil {
		unlock()
		return nil, nil, err
	}
	return ix, unlock, nil
}

func (s *Store) readIndex() (*index, error) {
	p := filepath.Join(s.root, indexFile)
	data, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return &index{Version: indexVersion}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", p, err)
	}
	var ix index
	if err := json.Unmarshal(data, &ix); err != nil {
		return nil, fmt.Errorf("read %s: %w: %v", p, ErrCorrupt, err)
	}
	if ix.Version != indexVersion {
		return nil, fmt.Errorf("read %s: version %d, this nook knows %d: %w", p, ix.Version, indexVersion, ErrCorrupt)
	}
	return &ix, nil
}

// writeIndex replaces images.json atomically: temp file, fsync, rename,
// fsync of the directory. Unchanged contents are not rewritten.
func (s *Store) writeIndex(ix *index) error {
	p := filepath.Join(s.root, indexFile)
	data, err := json.MarshalIndent(ix, "", "  ")
	if err != nil {
		return fmt.Errorf("write %s: %w", p, err)
	}
	data = append(data, '\n')
	if old, err := os.ReadFile(p); err == nil && bytes.Equal(old, data) {
		return nil
	}
	if err := atomicfile.WriteFile(p, data, atomicfile.Options{Durable: true}); err != nil {
		return err
	}
	return nil
}

func (ix *index) byID(id string) *record {
	for i := range ix.Images {
		if ix.Images[i].ID == id {
			return &ix.Images[i]
		}
	}
	return nil
}

func (ix *index) byName(name string) *record {
	for i := range ix.Images {
		if slices.Contains(ix.Images[i].Names, name) {
			return &ix.Images[i]
		}
	}
	return nil
}

// setName gives name to the image id, taking it from any other image.
func (ix *index) setName(name, id string) {
	for i := range ix.Images {
		r := &ix.Images[i]
		if r.ID == id {
			if !slices.Contains(r.Names, name) {
				r.Names = append(r.Names, name)
				slices.Sort(r.Names)
			}
			continue
		}
		r.Names = slices.DeleteFunc(r.Names, func(n string) bool { return n == name })
	}
}

// addDigest records that a registry knows the image id as d
// ("repo@sha256:...").
func (ix *index) addDigest(d, id string) {
	if r := ix.byID(id); r != nil && !slices.Contains(r.Digests, d) {
		r.Digests = append(r.Digests, d)
		slices.Sort(r.Digests)
	}
}

// untag removes name from the image id.
func (ix *index) untag(id, name string) {
	if r := ix.byID(id); r != nil {
		r.Names = slices.DeleteFunc(r.Names, func(n string) bool { return n == name })
	}
}

func (ix *index) remove(id string) {
	ix.Images = slices.DeleteFunc(ix.Images, func(r record) bool { return r.ID == id })
}

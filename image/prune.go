package image

import (
	"os"
	"path/filepath"
	"slices"
)

// PruneOptions adjust Prune.
type PruneOptions struct {
	// All removes every image no container uses, not only the
	// dangling ones (those without a name).
	All bool
	// InUse reports whether a container uses the image ID; nil means
	// none does.
	InUse func(imageID string) bool
}

// PruneReport says what Prune did, as docker image prune prints it.
type PruneReport struct {
	Untagged []string // names removed
	Deleted  []string // image IDs removed
	// Reclaimed is how many bytes of blobs and layers were deleted.
	Reclaimed int64
}

// Prune removes the images without a name (with opts.All, every image)
// that no container uses, then every blob and layer no remaining image
// needs.
func (s *Store) Prune(opts PruneOptions) (PruneReport, error) {
	var rep PruneReport
	ix, unlock, err := s.lockedIndex(true)
	if err != nil {
		return rep, err
	}
	for _, r := range slices.Clone(ix.Images) {
		if (len(r.Names) > 0 && !opts.All) || (opts.InUse != nil && opts.InUse(r.ID)) {
			continue
		}
		rep.Untagged = append(rep.Untagged, r.Names...)
		ix.remove(r.ID)
		rep.Deleted = append(rep.Deleted, r.ID)
	}
	if len(rep.Deleted) > 0 {
		err = s.writeIndex(ix)
	}
	unlock()
	if err != nil {
		return PruneReport{}, err
	}
	before := s.contentSize()
	if err := s.gc(); err != nil {
		return rep, err
	}
	rep.Reclaimed = max(0, before-s.contentSize())
	return rep, nil
}

// contentSize is the size of every blob and layer file of the store.
func (s *Store) contentSize() int64 {
	var total int64
	for _, dir := range []string{filepath.Join(s.root, blobsDir), s.layers()} {
		entries, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range entries {
			if fi, err := e.Info(); err == nil && fi.Mode().IsRegular() {
				total += fi.Size()
			}
		}
	}
	return total
}

package image

import (
	"fmt"
	"slices"
	"strings"
)

// RemoveOptions adjust Remove.
type RemoveOptions struct {
	// Force removes an image named by ID although it has several names,
	// and untags an image that a container uses (which then stays,
	// without names, until removed by ID).
	Force bool
	// InUse reports whether a container uses the image ID; nil means
	// none does.
	InUse func(imageID string) bool
}

// Remove removes an image, as docker rmi does. By name: the name goes
// ("Untagged: NAME"); when it was the image's last name the image goes too
// ("Deleted: sha256:..."). By ID: the image goes with all its names, but
// an image with several names needs Force (ErrTagged). An image in use
// (opts.InUse) is refused with ErrInUse unless Force, and then only
// untagged. Blobs and layers no remaining image uses are deleted. It
// returns what it did, one line each.
func (s *Store) Remove(ref string, opts RemoveOptions) ([]string, error) {
	did, deleted, err := s.untagOrDelete(ref, opts)
	if err != nil {
		return nil, err
	}
	if deleted {
		if err := s.gc(); err != nil {
			return did, fmt.Errorf("remove image %s: %w", ref, err)
		}
	}
	return did, nil
}

func (s *Store) untagOrDelete(ref string, opts RemoveOptions) (did []string, deleted bool, err error) {
	ix, unlock, err := s.lockedIndex(true)
	if err != nil {
		return nil, false, err
	}
	defer unlock()
	r, byName, err := ix.resolve(ref)
	if err != nil {
		return nil, false, err
	}
	id := r.ID
	inUse := opts.InUse != nil && opts.InUse(id)
	switch {
	case byName != "" && len(r.Names) > 1:
		ix.untag(id, byName)
		return []string{"Untagged: " + byName}, false, s.writeIndex(ix)
	case byName == "" && len(r.Names) > 1 && !opts.Force:
		return nil, false, fmt.Errorf("remove image %s: it is named %s: %w (remove the names, or force)", ref, strings.Join(r.Names, ", "), ErrTagged)
	case inUse && !opts.Force:
		return nil, false, fmt.Errorf("remove image %s: %w (remove the container first, or force)", ref, ErrInUse)
	}
	for _, n := range slices.Clone(r.Names) {
		did = append(did, "Untagged: "+n)
		ix.untag(id, n)
	}
	if !inUse {
		ix.remove(id)
		did = append(did, "Deleted: "+id)
	}
	if err := s.writeIndex(ix); err != nil {
		return nil, false, err
	}
	return did, !inUse, nil
}

// Tag gives the image ref the name newName (normalised; a tag, not a
// digest), taking the name from any image that had it.
func (s *Store) Tag(ref, newName string) error {
	n, err := normalizeTag(newName)
	if err != nil {
		return fmt.Errorf("tag %s: %w", ref, err)
	}
	ix, unlock, err := s.lockedIndex(true)
	if err != nil {
		return err
	}
	defer unlock()
	r, _, err := ix.resolve(ref)
	if err != nil {
		return err
	}
	ix.setName(n, r.ID)
	return s.writeIndex(ix)
}

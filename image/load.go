package image

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"time"

	"github.com/nookrun/nook/layer"
)

// Load stores the images of an archive: a docker-archive tar, an OCI
// archive tar (either plain, gzip or zstd) or an OCI layout directory,
// told apart by their contents. It returns the images in archive order,
// each with the names the archive gave it (in the store it may have more).
// Every name, path, size and digest of the archive is checked; a hostile
// or broken archive fails with ErrInvalidArchive or ErrDigestMismatch, and
// anything else not an archive with ErrNotArchive, leaving the store as it
// was. Layers already in the store are not read again.
func (s *Store) Load(ctx context.Context, path string) ([]Image, error) {
	src, err := s.openSource(ctx, path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, also(fmt.Errorf("load %s: no such file or directory", path), fs.ErrNotExist)
	}
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	defer src.close()
	imgs, err := s.load(ctx, src)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	return imgs, nil
}

// LoadReader is Load for an archive tar read from r (standard input): the
// stream is copied to an unnamed temporary file in the store first, as an
// archive's members can come in any order.
func (s *Store) LoadReader(ctx context.Context, r io.Reader) ([]Image, error) {
	src, err := s.spoolSource(ctx, r)
	if err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	defer src.close()
	imgs, err := s.load(ctx, src)
	if err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	return imgs, nil
}

// parseSource tells the archive's format by its files: manifest.json makes
// a docker-archive (docker save since 25 writes an OCI layout beside it;
// its manifest.json has the full names), oci-layout an OCI layout.
func parseSource(src source) ([]*pending, error) {
	switch {
	case src.exists(dockerManifest):
		return parseDocker(src)
	case src.exists(ociLayoutFile) || src.exists(ociIndexFile):
		return parseOCI(src)
	}
	return nil, ErrNotArchive
}

func (s *Store) load(ctx context.Context, src source) ([]Image, error) {
	ps, err := parseSource(src)
	if err != nil {
		return nil, err
	}
	release, err := s.Hold()
	if err != nil {
		return nil, err
	}
	imgs, err := s.store(ctx, ps, src)
	release()
	if err != nil {
		s.collectAfterFailure()
		return nil, err
	}
	// Say what this archive named, as docker load does, not every name
	// the image has in the store.
	for i := range imgs {
		imgs[i].Names = slices.Sorted(slices.Values(ps[i].names))
	}
	return imgs, nil
}

// store writes the layers the pending images need (from src), then their
// blobs and names. The caller holds the store.
func (s *Store) store(ctx context.Context, ps []*pending, src source) ([]Image, error) {
	for _, p := range ps {
		for _, l := range p.layers {
			if err := s.writeLayer(ctx, src, l); err != nil {
				return nil, err
			}
		}
	}
	return s.commit(ps)
}

// writeLayer makes the layer l from the source unless the store has it.
func (s *Store) writeLayer(ctx context.Context, src source, l pendingLayer) error {
	if layer.Exists(s.layers(), l.diffID) {
		return nil
	}
	rc, size, err := src.open(l.member)
	if err != nil {
		return fmt.Errorf("layer %s: %w", l.member, wrapMissing(err))
	}
	defer rc.Close()
	if l.size >= 0 && size != l.size {
		return fmt.Errorf("layer %s is %d bytes, its descriptor says %d: %w", l.member, size, l.size, ErrInvalidArchive)
	}
	r := newVerifier(ctxReader{ctx, rc}, l.digest, l.member)
	if _, err := layer.Create(ctx, r, s.layers(), layer.WithDiffID(l.diffID)); err != nil {
		err = fmt.Errorf("layer %s: %w", l.member, err)
		if errors.Is(err, layer.ErrDigestMismatch) {
			err = also(err, ErrDigestMismatch)
		}
		return err
	}
	return nil
}

// commit stores the pending images' config and manifest blobs and enters
// them in images.json, names moving from any image that had them. The
// caller holds the store, so the layers just written are still there.
func (s *Store) commit(ps []*pending) ([]Image, error) {
	ix, unlock, err := s.lockedIndex(true)
	if err != nil {
		return nil, err
	}
	defer unlock()
	now := time.Now().UTC()
	for _, p := range ps {
		size, err := s.layersSize(p)
		if err != nil {
			return nil, err
		}
		if p.manifest == nil {
			if p.manifest, err = makeManifest(p, s); err != nil {
				return nil, err
			}
		}
		if err := s.putBlob(p.id, p.config); err != nil {
			return nil, err
		}
		mdig := digestOf(p.manifest)
		if ix.byID(p.id) == nil {
			if err := s.putBlob(mdig, p.manifest); err != nil {
				return nil, err
			}
			ix.Images = append(ix.Images, record{ID: p.id, Manifest: mdig, Size: size, Stored: now})
		}
		for _, n := range p.names {
			ix.setName(n, p.id)
		}
		for _, d := range p.digests {
			ix.addDigest(d, p.id)
		}
	}
	if err := s.writeIndex(ix); err != nil {
		return nil, err
	}
	var out []Image
	for _, p := range ps {
		img, err := s.imageOf(ix.byID(p.id))
		if err != nil {
			return nil, err
		}
		out = append(out, img)
	}
	return out, nil
}

// layersSize sums the sizes of p's stored layer tars.
func (s *Store) layersSize(p *pending) (int64, error) {
	var total int64
	for _, l := range p.layers {
		sl, err := s.layerOf(l.diffID)
		if err != nil {
			return 0, err
		}
		fi, err := os.Stat(sl.Tar)
		if err != nil {
			return 0, fmt.Errorf("layer %s: %w", l.diffID, err)
		}
		total += fi.Size()
	}
	return total, nil
}

// collectAfterFailure removes what a failed Load or Import left (layers no
// image names) when nobody else holds the store; when someone does, their
// own content may be among it, and the next Remove collects it instead.
func (s *Store) collectAfterFailure() {
	unlock, err := s.gcLock(true)
	if err != nil {
		return
	}
	defer unlock()
	_ = s.collect()
}

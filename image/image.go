package image

import (
	"bytes"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Image is a stored image.
type Image struct {
	// ID is "sha256:<hex>" of the config blob (Docker's image ID).
	ID string
	// Names are the image's full names, sorted, e.g.
	// "docker.io/library/busybox:latest"; none for a dangling image.
	Names []string
	// Created is when the image was built, from its config.
	Created time.Time
	// Size is the sum of the uncompressed layer sizes.
	Size int64
	// Config is how to run the image: Entrypoint, Cmd, Env, WorkingDir,
	// User, StopSignal, ExposedPorts, Labels...
	Config v1.Config
	// Platform is "os/arch" or "os/arch/variant", e.g. "linux/amd64".
	Platform string
	// Layers are the image's layers, bottom first.
	Layers []Layer
	// Digests are "repository@sha256:..." by which registries serve the
	// image (Docker's RepoDigests): the digest its tag resolved to (an
	// index's, for a multi-platform image) and its manifest's.
	Digests []string
	// ManifestDigest is "sha256:<hex>" of the stored manifest (the one
	// the archive had, or one nook made for a docker-archive or import).
	ManifestDigest string
}

// Layer is one stored layer: its uncompressed tar and index (see package
// layer), shared by every image that has it.
type Layer struct {
	DiffID string // "sha256:<hex>" of the uncompressed tar
	Tar    string // absolute path of the .tar
	Index  string // absolute path of the .idx
}

// platformOf spells a config's platform as "os/arch[/variant]".
func platformOf(cf *v1.ConfigFile) string {
	p := cf.OS + "/" + cf.Architecture
	if cf.Variant != "" {
		p += "/" + cf.Variant
	}
	return p
}

// layerOf gives the store's paths for a layer.
func (s *Store) layerOf(diffID string) (Layer, error) {
	h, ok := digestHex(diffID)
	if !ok {
		return Layer{}, fmt.Errorf("layer %q: not a sha256 digest", diffID)
	}
	base := filepath.Join(s.layers(), h)
	return Layer{DiffID: diffID, Tar: base + ".tar", Index: base + ".idx"}, nil
}

// imageOf reads the config blob of r and makes the Image.
func (s *Store) imageOf(r *record) (Image, error) {
	data, err := s.getBlob(r.ID)
	if err != nil {
		return Image{}, fmt.Errorf("image %s: %w", r.ID, err)
	}
	cf, err := v1.ParseConfigFile(bytes.NewReader(data))
	if err != nil {
		return Image{}, fmt.Errorf("image %s: parse config: %w: %v", r.ID, ErrCorrupt, err)
	}
	img := Image{
		ID:             r.ID,
		Names:          slices.Clone(r.Names),
		Digests:        slices.Clone(r.Digests),
		Created:        cf.Created.Time,
		Size:           r.Size,
		Config:         cf.Config,
		Platform:       platformOf(cf),
		ManifestDigest: r.Manifest,
	}
	for _, d := range cf.RootFS.DiffIDs {
		l, err := s.layerOf(d.String())
		if err != nil {
			return Image{}, fmt.Errorf("image %s: %w: %v", r.ID, ErrCorrupt, err)
		}
		img.Layers = append(img.Layers, l)
	}
	return img, nil
}

// Lookup finds an image by name (normalised: "busybox" finds
// "docker.io/library/busybox:latest"), by name and manifest digest, by full
// ID (with or without "sha256:") or by a unique ID prefix of at least four
// hex digits. It fails with ErrNotFound or ErrAmbiguous.
func (s *Store) Lookup(ref string) (Image, error) {
	ix, unlock, err := s.lockedIndex(false)
	if err != nil {
		return Image{}, err
	}
	defer unlock()
	r, _, err := ix.resolve(ref)
	if err != nil {
		return Image{}, err
	}
	return s.imageOf(r)
}

// List returns every stored image, newest first.
func (s *Store) List() ([]Image, error) {
	ix, unlock, err := s.lockedIndex(false)
	if err != nil {
		return nil, err
	}
	defer unlock()
	imgs := make([]Image, 0, len(ix.Images))
	for i := range ix.Images {
		img, err := s.imageOf(&ix.Images[i])
		if err != nil {
			return nil, err
		}
		imgs = append(imgs, img)
	}
	slices.SortStableFunc(imgs, func(a, b Image) int {
		if c := b.Created.Compare(a.Created); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return imgs, nil
}

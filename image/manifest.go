package image

import (
	"encoding/json"
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// makeManifest makes an OCI manifest for an image that came without one
// (a docker-archive, an import): the config and the uncompressed layers
// as stored. It is what a later save or push starts from.
func makeManifest(p *pending, s *Store) ([]byte, error) {
	cfgHash, err := v1.NewHash(p.id)
	if err != nil {
		return nil, fmt.Errorf("make manifest: %w", err)
	}
	m := v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.OCIManifestSchema1,
		Config: v1.Descriptor{
			MediaType: types.OCIConfigJSON,
			Size:      int64(len(p.config)),
			Digest:    cfgHash,
		},
		Layers: []v1.Descriptor{},
	}
	for _, l := range p.layers {
		one := &pending{layers: []pendingLayer{l}}
		size, err := s.layersSize(one)
		if err != nil {
			return nil, err
		}
		h, err := v1.NewHash(l.diffID)
		if err != nil {
			return nil, fmt.Errorf("make manifest: %w", err)
		}
		m.Layers = append(m.Layers, v1.Descriptor{
			MediaType: types.OCIUncompressedLayer,
			Size:      size,
			Digest:    h,
		})
	}
	data, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("make manifest: %w", err)
	}
	return data, nil
}

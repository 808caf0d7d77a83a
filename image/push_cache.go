package image

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/nookrun/nook/internal/atomicfile"
)

// A push compresses a layer the registry lacks, so the compressed digest
// is known only once it is sent. layers/<diffid>.pushed remembers it
// (the descriptor sent: media type, digest, size), so that the next push
// of the layer, to any registry, can ask first whether the registry has
// it and skip sending it again, as Docker's distribution metadata does.
// It is a hint: a registry that lacks the blob gets it sent anew. It is
// collected with its layer.
const pushedExt = ".pushed"

func (s *Store) pushedPath(diffID string) (string, bool) {
	h, ok := digestHex(diffID)
	if !ok {
		return "", false
	}
	return filepath.Join(s.layers(), h+pushedExt), true
}

// pushedDescriptor is the descriptor a layer was last pushed with, if any.
func (s *Store) pushedDescriptor(diffID string) (v1.Descriptor, bool) {
	p, ok := s.pushedPath(diffID)
	if !ok {
		return v1.Descriptor{}, false
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return v1.Descriptor{}, false
	}
	var d v1.Descriptor
	if err := json.Unmarshal(data, &d); err != nil || d.Size <= 0 || !strings.HasPrefix(d.Digest.String(), "sha256:") {
		return v1.Descriptor{}, false
	}
	return d, true
}

// rememberPushed records d as the descriptor the layer diffID was pushed
// with; a failure to record it only costs a later upload.
func (s *Store) rememberPushed(diffID string, d v1.Descriptor) {
	p, ok := s.pushedPath(diffID)
	if !ok {
		return
	}
	data, err := json.Marshal(v1.Descriptor{MediaType: d.MediaType, Digest: d.Digest, Size: d.Size})
	if err != nil {
		return
	}
	_ = atomicfile.WriteFile(p, data, atomicfile.Options{Durable: true})
}

package image

import (
	"bytes"
	"encoding/json"
	"fmt"
	"runtime"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Files that make a directory or tar an OCI image layout.
const (
	ociLayoutFile = "oci-layout"
	ociIndexFile  = "index.json"
)

// Annotations of an index entry that name the image: containerd (and
// docker save since 25) put the full name in the first, the spec's second
// usually holds a full name too (podman, skopeo) but may hold a bare tag.
const (
	annotationContainerdName = "io.containerd.image.name"
	annotationRefName        = "org.opencontainers.image.ref.name"
)

// parseOCI reads an OCI image layout (a directory, or a tar of one): every
// image its index.json lists, choosing the host's platform from nested
// indexes. Every blob is read by digest, checked against its descriptor's
// size and digest before use (layers while they stream in).
func parseOCI(src source) ([]*pending, error) {
	data, err := readSmall(src, ociLayoutFile, maxJSON)
	if err != nil {
		return nil, err
	}
	var lay struct {
		Version string `json:"imageLayoutVersion"`
	}
	if err := json.Unmarshal(data, &lay); err != nil || lay.Version == "" {
		return nil, fmt.Errorf("%s is not an OCI layout marker: %w", ociLayoutFile, ErrInvalidArchive)
	}
	data, err = readSmall(src, ociIndexFile, maxJSON)
	if err != nil {
		return nil, err
	}
	idx, err := v1.ParseIndexManifest(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w: %v", ociIndexFile, ErrInvalidArchive, err)
	}
	if len(idx.Manifests) > maxImages {
		return nil, fmt.Errorf("%s lists %d manifests, over the limit of %d: %w", ociIndexFile, len(idx.Manifests), maxImages, ErrInvalidArchive)
	}
	var out []*pending
	for _, d := range idx.Manifests {
		p, err := parseOCIEntry(src, d, 0)
		if err != nil {
			return nil, err
		}
		if p == nil {
			continue // not an image: an attestation, a signature...
		}
		if n := nameOf(d.Annotations); n != "" {
			p.names = append(p.names, n)
		}
		out = append(out, p)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s lists no image for %s/%s: %w", ociIndexFile, runtime.GOOS, runtime.GOARCH, ErrInvalidArchive)
	}
	return mergePending(out), nil
}

// nameOf is the normalised name an index entry's annotations give, or ""
// when they give none. A ref.name without "/" or ":" is taken for the bare
// tag the OCI spec's examples show ("latest", "1.0"), which names no
// repository: better no name than "docker.io/library/latest:latest".
func nameOf(ann map[string]string) string {
	if n, err := normalizeTag(ann[annotationContainerdName]); err == nil {
		return n
	}
	v := ann[annotationRefName]
	if !strings.ContainsAny(v, "/:") {
		return ""
	}
	if n, err := normalizeTag(v); err == nil {
		return n
	}
	return ""
}

// readBlob reads a small blob that d describes and checks its size and
// digest.
func readBlob(src source, d v1.Descriptor, max int64) ([]byte, error) {
	h, ok := digestHex(d.Digest.String())
	if !ok {
		return nil, fmt.Errorf("descriptor digest %q is not a sha256 digest: %w", d.Digest.String(), ErrInvalidArchive)
	}
	if d.Size < 0 || d.Size > max {
		return nil, fmt.Errorf("blob %s has size %d, over the limit of %d: %w", d.Digest, d.Size, max, ErrInvalidArchive)
	}
	data, err := readSmall(src, "blobs/sha256/"+h, max)
	if err != nil {
		return nil, err
	}
	if int64(len(data)) != d.Size {
		return nil, fmt.Errorf("blob %s is %d bytes, its descriptor says %d: %w", d.Digest, len(data), d.Size, ErrInvalidArchive)
	}
	if got := digestOf(data); got != d.Digest.String() {
		return nil, fmt.Errorf("blob %s hashes to %s: %w", d.Digest, got, ErrDigestMismatch)
	}
	return data, nil
}

// parseOCIEntry reads what an index entry points at: an image manifest,
// or a nested index from which it takes the host platform's manifest.
// It returns nil for an entry that is no image.
func parseOCIEntry(src source, d v1.Descriptor, depth int) (*pending, error) {
	switch d.MediaType {
	case types.OCIManifestSchema1, types.DockerManifestSchema2:
		return parseOCIManifest(src, d)
	case types.OCIImageIndex, types.DockerManifestList:
		if depth >= maxIndexNest {
			return nil, fmt.Errorf("image indexes nested deeper than %d: %w", maxIndexNest, ErrInvalidArchive)
		}
		data, err := readBlob(src, d, maxJSON)
		if err != nil {
			return nil, err
		}
		idx, err := v1.ParseIndexManifest(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("parse image index %s: %w: %v", d.Digest, ErrInvalidArchive, err)
		}
		for _, m := range idx.Manifests {
			if m.Platform != nil && m.Platform.OS == runtime.GOOS && m.Platform.Architecture == runtime.GOARCH {
				return parseOCIEntry(src, m, depth+1)
			}
		}
		return nil, nil
	}
	return nil, nil
}

func parseOCIManifest(src source, d v1.Descriptor) (*pending, error) {
	data, err := readBlob(src, d, maxJSON)
	if err != nil {
		return nil, err
	}
	m, err := v1.ParseManifest(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("parse manifest %s: %w: %v", d.Digest, ErrInvalidArchive, err)
	}
	cfgData, err := readBlob(src, m.Config, maxConfig)
	if err != nil {
		return nil, fmt.Errorf("config of manifest %s: %w", d.Digest, err)
	}
	cf, id, err := parseConfig(cfgData, len(m.Layers), m.Config.Digest.String())
	if err != nil {
		return nil, err
	}
	p := &pending{config: cfgData, id: id, cf: cf, manifest: data}
	for i, l := range m.Layers {
		h, ok := digestHex(l.Digest.String())
		if !ok {
			return nil, fmt.Errorf("layer digest %q is not a sha256 digest: %w", l.Digest.String(), ErrInvalidArchive)
		}
		member := "blobs/sha256/" + h
		if !src.exists(member) {
			return nil, fmt.Errorf("layer %s: %w: %w", l.Digest, errMissing, ErrInvalidArchive)
		}
		p.layers = append(p.layers, pendingLayer{member: member, diffID: cf.RootFS.DiffIDs[i].String(), digest: l.Digest.String(), size: l.Size})
	}
	return p, nil
}

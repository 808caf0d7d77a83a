package image

import (
	"fmt"
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
)

// dockerHub is how Docker and Podman spell Docker Hub's registry in full
// names; go-containerregistry calls it index.docker.io.
const dockerHub = "docker.io"

// NormalizeName returns the full name of an image reference as Docker and
// Podman spell it: "busybox" is "docker.io/library/busybox:latest",
// "localhost/x" is "localhost/x:latest", and a digest reference keeps its
// digest ("docker.io/library/busybox@sha256:...").
func NormalizeName(ref string) (string, error) {
	r, err := name.ParseReference(ref)
	if err != nil {
		return "", fmt.Errorf("parse image name %q: %w", ref, ErrInvalidReference)
	}
	reg := r.Context().RegistryStr()
	if reg == name.DefaultRegistry {
		reg = dockerHub
	}
	repo := reg + "/" + r.Context().RepositoryStr()
	if d, ok := r.(name.Digest); ok {
		return repo + "@" + d.DigestStr(), nil
	}
	return repo + ":" + r.Identifier(), nil
}

// normalizeTag is NormalizeName for names an image can be given: tags,
// not digests.
func normalizeTag(ref string) (string, error) {
	n, err := NormalizeName(ref)
	if err != nil {
		return "", err
	}
	if strings.Contains(n, "@") {
		return "", fmt.Errorf("name %q: an image is named by a tag, not a digest: %w", ref, ErrInvalidReference)
	}
	return n, nil
}

// SplitName splits a full name into repository and tag (or digest):
// "docker.io/library/busybox:latest" gives "docker.io/library/busybox" and
// "latest", as nook images shows them.
func SplitName(full string) (repo, tag string) {
	if i := strings.LastIndex(full, "@"); i >= 0 {
		return full[:i], full[i+1:]
	}
	if i := strings.LastIndex(full, ":"); i > strings.LastIndex(full, "/") {
		return full[:i], full[i+1:]
	}
	return full, ""
}

// minPrefix is the shortest ID prefix Lookup accepts.
const minPrefix = 4

// resolve finds the image ref means: a name (normalised), a digest
// reference (matched against manifest digests), a full ID with or without
// "sha256:", or a unique ID prefix of at least minPrefix hex digits. Names
// win over ID prefixes, as in Docker. byName is the normalised name when
// ref named the image by its tag.
func (ix *index) resolve(ref string) (r *record, byName string, err error) {
	if ref == "" {
		return nil, "", fmt.Errorf("look up image: empty reference: %w", ErrInvalidReference)
	}
	if n, err := NormalizeName(ref); err == nil {
		if _, dig, ok := strings.Cut(n, "@"); ok {
			for i := range ix.Images {
				if ix.Images[i].Manifest == dig || ix.Images[i].ID == dig || slices.Contains(ix.Images[i].Digests, n) {
					return &ix.Images[i], "", nil
				}
			}
		} else if r := ix.byName(n); r != nil {
			return r, n, nil
		}
	}
	hexPart := strings.TrimPrefix(ref, "sha256:")
	if len(hexPart) < minPrefix || len(hexPart) > 64 || !isHex(hexPart) {
		return nil, "", fmt.Errorf("look up image %q: %w", ref, ErrNotFound)
	}
	var found *record
	for i := range ix.Images {
		if strings.HasPrefix(strings.TrimPrefix(ix.Images[i].ID, "sha256:"), hexPart) {
			if found != nil {
				return nil, "", fmt.Errorf("look up image %q: %w", ref, ErrAmbiguous)
			}
			found = &ix.Images[i]
		}
	}
	if found == nil {
		return nil, "", fmt.Errorf("look up image %q: %w", ref, ErrNotFound)
	}
	return found, "", nil
}

func isHex(s string) bool {
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

package image

import (
	"bytes"
	"encoding/json"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// dockerEntry is one image of a docker-archive's manifest.json.
type dockerEntry struct {
	Config   string
	RepoTags []string
	Layers   []string
}

// setDockerManifest edits manifest.json.
func setDockerManifest(t *testing.T, edit func(m []dockerEntry)) func(es []entry) []entry {
	return func(es []entry) []entry {
		t.Helper()
		for i := range es {
			if es[i].name != "manifest.json" {
				continue
			}
			var m []dockerEntry
			if err := json.Unmarshal(es[i].body, &m); err != nil {
				t.Fatal(err)
			}
			edit(m)
			data, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			es[i].body = data
		}
		return es
	}
}

func drop(es []entry, name string) []entry {
	var out []entry
	for _, e := range es {
		if e.name != name {
			out = append(out, e)
		}
	}
	return out
}

func cloneEntries(es []entry) []entry {
	out := make([]entry, len(es))
	copy(out, es)
	return out
}

func blobName(d string) string { return "blobs/sha256/" + d[len("sha256:"):] }

// ociDigestOfIndex is the digest of the first manifest index.json lists.
func ociDigestOfIndex(t *testing.T, es []entry) string {
	t.Helper()
	idx, err := v1.ParseIndexManifest(bytes.NewReader(find(t, es, "index.json").body))
	if err != nil {
		t.Fatal(err)
	}
	return idx.Manifests[0].Digest.String()
}

// ociManifestOf is the first image manifest of an OCI archive.
func ociManifestOf(t *testing.T, es []entry) *v1.Manifest {
	t.Helper()
	m, err := v1.ParseManifest(bytes.NewReader(find(t, es, blobName(ociDigestOfIndex(t, es))).body))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

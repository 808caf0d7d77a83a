package image

import (
	"bytes"
	"fmt"
	"path"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// pending is an image read from an archive (or made by Import) and
// checked, before anything of it is stored.
type pending struct {
	config   []byte // the config blob
	id       string // its digest
	cf       *v1.ConfigFile
	manifest []byte // the manifest blob; nil to make one at commit
	names    []string
	digests  []string       // "repo@sha256:..." a registry knows it by
	layers   []pendingLayer // bottom first, one per DiffID
}

// pendingLayer is where a layer is in the source and what it must hash to.
type pendingLayer struct {
	member string // path in the source
	diffID string // sha256 of the uncompressed tar, from the config
	digest string // sha256 of the blob as stored; "" when the archive does not say
	size   int64  // size of the blob as stored; -1 when the archive does not say
}

// parseConfig checks a config blob and reads it: its digest is the image
// ID, and it must list one DiffID per layer (nLayers).
func parseConfig(data []byte, nLayers int, where string) (*v1.ConfigFile, string, error) {
	cf, err := v1.ParseConfigFile(bytes.NewReader(data))
	if err != nil {
		return nil, "", fmt.Errorf("config %s: %w: %v", where, ErrInvalidArchive, err)
	}
	if n := len(cf.RootFS.DiffIDs); n != nLayers {
		return nil, "", fmt.Errorf("config %s lists %d layer DiffIDs for %d layers: %w", where, n, nLayers, ErrInvalidArchive)
	}
	for _, d := range cf.RootFS.DiffIDs {
		if _, ok := digestHex(d.String()); !ok {
			return nil, "", fmt.Errorf("config %s: DiffID %q is not a sha256 digest: %w", where, d.String(), ErrInvalidArchive)
		}
	}
	return cf, digestOf(data), nil
}

// digestInName returns "sha256:<hex>" when a blob's path in an archive
// names its digest ("blobs/sha256/<hex>", or "<hex>.json" and
// "<hex>.tar[.gz]" as docker save names them), else "".
func digestInName(p string) string {
	base := path.Base(p)
	if h, ok := strings.CutPrefix(base, "sha256:"); ok && path.Dir(p) == "." {
		// go-containerregistry's docker-archive names the config so.
		if _, ok := digestHex(base); ok {
			return "sha256:" + h
		}
		return ""
	}
	if path.Dir(p) == "blobs/sha256" {
		if _, ok := digestHex("sha256:" + base); ok {
			return "sha256:" + base
		}
		return ""
	}
	for _, ext := range []string{".json", ".tar", ".tar.gz", ".tar.zst"} {
		if h, ok := strings.CutSuffix(base, ext); ok {
			if _, ok := digestHex("sha256:" + h); ok {
				return "sha256:" + h
			}
		}
	}
	return ""
}

// mergePending joins pending images of the same ID (an archive that lists
// one image under several names), keeping the first's manifest.
func mergePending(ps []*pending) []*pending {
	var out []*pending
	byID := map[string]*pending{}
	for _, p := range ps {
		if q, ok := byID[p.id]; ok {
			for _, n := range p.names {
				if !contains(q.names, n) {
					q.names = append(q.names, n)
				}
			}
			continue
		}
		byID[p.id] = p
		out = append(out, p)
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

package image

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// dockerManifest is the file that makes an archive a docker-archive.
const dockerManifest = "manifest.json"

// parseDocker reads a docker-archive (docker save, podman save): its
// manifest.json lists images, each a config file, layer files bottom
// first and repo tags. Every path must stay inside the archive and name a
// regular file; a config whose path names its digest must match it.
func parseDocker(src source) ([]*pending, error) {
	data, err := readSmall(src, dockerManifest, maxJSON)
	if err != nil {
		return nil, err
	}
	var m tarball.Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("parse %s: %w: %v", dockerManifest, ErrInvalidArchive, err)
	}
	if len(m) == 0 {
		return nil, fmt.Errorf("%s lists no image: %w", dockerManifest, ErrInvalidArchive)
	}
	if len(m) > maxImages {
		return nil, fmt.Errorf("%s lists %d images, over the limit of %d: %w", dockerManifest, len(m), maxImages, ErrInvalidArchive)
	}
	var out []*pending
	for i := range m {
		p, err := parseDockerImage(src, &m[i])
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return mergePending(out), nil
}

func parseDockerImage(src source, d *tarball.Descriptor) (*pending, error) {
	cfgPath, err := localPath(d.Config)
	if err != nil {
		return nil, fmt.Errorf("%s: config: %w", dockerManifest, err)
	}
	data, err := readSmall(src, cfgPath, maxConfig)
	if err != nil {
		return nil, fmt.Errorf("%s: config: %w", dockerManifest, err)
	}
	if want := digestInName(cfgPath); want != "" && digestOf(data) != want {
		return nil, fmt.Errorf("config %s hashes to %s: %w", cfgPath, digestOf(data), ErrDigestMismatch)
	}
	cf, id, err := parseConfig(data, len(d.Layers), cfgPath)
	if err != nil {
		return nil, err
	}
	p := &pending{config: data, id: id, cf: cf}
	for i, l := range d.Layers {
		lp, err := localPath(l)
		if err != nil {
			return nil, fmt.Errorf("%s: layer: %w", dockerManifest, err)
		}
		if !src.exists(lp) {
			return nil, fmt.Errorf("layer %s: %w: %w", lp, errMissing, ErrInvalidArchive)
		}
		pl := pendingLayer{member: lp, diffID: cf.RootFS.DiffIDs[i].String(), size: -1}
		if strings.HasPrefix(lp, "blobs/sha256/") {
			// docker save (since 25) names layer blobs by their digest;
			// older names (<id>/layer.tar, <hex>.tar.gz) promise nothing.
			pl.digest = digestInName(lp)
		}
		p.layers = append(p.layers, pl)
	}
	for _, t := range d.RepoTags {
		n, err := normalizeTag(t)
		if err != nil {
			return nil, fmt.Errorf("%s: repo tag: %w", dockerManifest, err)
		}
		if !contains(p.names, n) {
			p.names = append(p.names, n)
		}
	}
	return p, nil
}

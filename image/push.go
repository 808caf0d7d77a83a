package image

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/stream"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"golang.org/x/sync/errgroup"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Push sends the stored image ref to a registry as dest (a tag; ref's own
// name when dest is ""), and returns the digest of the manifest pushed.
//
// The store keeps layers uncompressed, so a layer the registry does not
// have is compressed with gzip on the fly as it is sent, its digest
// computed on the way, and that descriptor is remembered beside the layer
// (layers/<diffid>.pushed). A layer the registry has already, by the
// digest of the manifest the image was pulled or loaded with or by the
// remembered one, is not sent again; when every layer is there under the
// stored manifest's digests, that manifest is pushed byte for byte. The config is pushed unchanged, so the image ID a later
// pull gives is the ID pushed.
func (s *Store) Push(ctx context.Context, ref, dest string, opts ...RemoteOption) (string, error) {
	o, err := makeRemoteOptions(opts)
	if err != nil {
		return "", fmt.Errorf("push %s: %w", ref, err)
	}
	release, err := s.Hold()
	if err != nil {
		return "", err
	}
	defer release()
	src, byName, err := s.pushSource(ref)
	if err != nil {
		return "", err
	}
	if dest == "" {
		if byName == "" {
			return "", fmt.Errorf("push %s: an image named by ID needs a destination (nook push ID REGISTRY/REPOSITORY:TAG): %w", ref, ErrInvalidReference)
		}
		dest = byName
	}
	full, err := normalizeTag(dest)
	if err != nil {
		return "", fmt.Errorf("push %s: %w", ref, err)
	}
	repo, tag := SplitName(full)
	o.progress.Status("Pushing " + full)
	c, err := dial(ctx, repo, false, o, transport.PushScope)
	if err != nil {
		return "", withTried(fmt.Errorf("push %s: %w", full, err), []string{hostOf(repo)})
	}
	d, err := s.push(ctx, c, src, tag, o)
	if err != nil {
		return "", withTried(fmt.Errorf("push %s: %w", full, err), []string{hostOf(repo)})
	}
	return d, nil
}

func hostOf(repo string) string {
	h, _, _ := strings.Cut(repo, "/")
	return h
}

// pushSource is what a push sends: the image's config and manifest as
// stored, and its layers.
type pushSource struct {
	img      Image
	config   []byte
	manifest *v1.Manifest
	rawMf    []byte
}

func (s *Store) pushSource(ref string) (*pushSource, string, error) {
	ix, unlock, err := s.lockedIndex(false)
	if err != nil {
		return nil, "", err
	}
	defer unlock()
	r, byName, err := ix.resolve(ref)
	if err != nil {
		return nil, "", err
	}
	img, err := s.imageOf(r)
	if err != nil {
		return nil, "", err
	}
	cfg, err := s.getBlob(r.ID)
	if err != nil {
		return nil, "", err
	}
	raw, err := s.getBlob(r.Manifest)
	if err != nil {
		return nil, "", err
	}
	mf, err := v1.ParseManifest(bytes.NewReader(raw))
	if err != nil || len(mf.Layers) != len(img.Layers) {
		return nil, "", fmt.Errorf("image %s: manifest %s: %w", r.ID, r.Manifest, ErrCorrupt)
	}
	return &pushSource{img: img, config: cfg, manifest: mf, rawMf: raw}, byName, nil
}

func (s *Store) push(ctx context.Context, c *repoClient, src *pushSource, tag string, o *remoteOptions) (string, error) {
	docker := src.manifest.MediaType == types.DockerManifestSchema2
	layerType, configType, mfType := types.OCILayer, types.OCIConfigJSON, types.OCIManifestSchema1
	if docker {
		layerType, configType, mfType = types.DockerLayer, types.DockerConfigJSON, types.DockerManifestSchema2
	}
	descs := make([]v1.Descriptor, len(src.img.Layers))
	reused := make([]bool, len(src.img.Layers))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(o.jobs)
	for i, l := range src.img.Layers {
		old := src.manifest.Layers[i]
		g.Go(func() error {
			ev := BlobEvent{Digest: l.DiffID, Size: old.Size}
			o.progress.Blob(ev)
			cands := []v1.Descriptor{old}
			if d, ok := s.pushedDescriptor(l.DiffID); ok && d.MediaType == layerType && d.Digest != old.Digest {
				cands = append(cands, d)
			}
			for j, d := range cands {
				has, err := c.hasBlob(gctx, d.Digest.String())
				if err != nil {
					return err
				}
				if has {
					descs[i], reused[i] = d, j == 0
					ev.State = BlobExists
					o.progress.Blob(ev)
					return nil
				}
			}
			d, err := c.uploadLayer(gctx, l, layerType, o.progress)
			if err != nil {
				o.progress.Blob(BlobEvent{Digest: l.DiffID, State: BlobFailed})
				return fmt.Errorf("layer %s: %w", l.DiffID, err)
			}
			s.rememberPushed(l.DiffID, d)
			descs[i] = d
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return "", err
	}
	cfgType := src.manifest.Config.MediaType
	if cfgType == "" {
		cfgType = configType
	}
	if err := remote.WriteLayer(c.repo, static.NewLayer(src.config, cfgType), remote.WithTransport(c.rt), remote.WithContext(ctx)); err != nil {
		return "", classify(fmt.Errorf("config: %w", err), "")
	}
	raw := src.rawMf
	mt := src.manifest.MediaType
	if !allTrue(reused) || mt == "" {
		cfgDigest, err := v1.NewHash(src.img.ID)
		if err != nil {
			return "", err
		}
		m := v1.Manifest{
			SchemaVersion: 2,
			MediaType:     mfType,
			Config:        v1.Descriptor{MediaType: cfgType, Size: int64(len(src.config)), Digest: cfgDigest},
			Layers:        descs,
		}
		if raw, err = json.Marshal(m); err != nil {
			return "", err
		}
		mt = mfType
	}
	o.progress.Status("Writing manifest to image destination")
	if err := c.putManifest(ctx, tag, raw, mt); err != nil {
		return "", err
	}
	return digestOf(raw), nil
}

func allTrue(bs []bool) bool {
	for _, b := range bs {
		if !b {
			return false
		}
	}
	return true
}

// hasBlob asks the registry whether the repository has the blob digest.
func (c *repoClient) hasBlob(ctx context.Context, digest string) (bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, c.url("blobs", digest), nil)
	if err != nil {
		return false, err
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return false, classify(err, "")
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
		return true, nil
	case http.StatusNotFound:
		return false, nil
	}
	return false, classify(transport.CheckError(resp, http.StatusOK), "")
}

// uploadLayer sends the stored layer l compressed with gzip and returns
// its descriptor.
func (c *repoClient) uploadLayer(ctx context.Context, l Layer, mt types.MediaType, prog Progress) (v1.Descriptor, error) {
	f, err := os.Open(l.Tar)
	if err != nil {
		return v1.Descriptor{}, fmt.Errorf("read layer: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return v1.Descriptor{}, fmt.Errorf("read layer: %w", err)
	}
	in := &progressFile{f: f, prog: prog, ev: BlobEvent{Digest: l.DiffID, Size: fi.Size(), State: BlobTransferring}}
	sl := stream.NewLayer(in, stream.WithMediaType(mt))
	if err := remote.WriteLayer(c.repo, sl, remote.WithTransport(c.rt), remote.WithContext(ctx)); err != nil {
		return v1.Descriptor{}, classify(err, "")
	}
	diffID, err := sl.DiffID()
	if err != nil {
		return v1.Descriptor{}, err
	}
	if diffID.String() != l.DiffID {
		return v1.Descriptor{}, fmt.Errorf("stored layer hashes to %s: %w", diffID, ErrCorrupt)
	}
	d, err := sl.Digest()
	if err != nil {
		return v1.Descriptor{}, err
	}
	size, err := sl.Size()
	if err != nil {
		return v1.Descriptor{}, err
	}
	prog.Blob(BlobEvent{Digest: l.DiffID, Size: fi.Size(), Done: fi.Size(), State: BlobDone})
	return v1.Descriptor{MediaType: mt, Size: size, Digest: d}, nil
}

// progressFile reports the bytes read from a layer file.
type progressFile struct {
	f    *os.File
	prog Progress
	ev   BlobEvent
}

func (p *progressFile) Read(b []byte) (int, error) {
	n, err := p.f.Read(b)
	if n > 0 {
		p.ev.Done += int64(n)
		p.prog.Blob(p.ev)
	}
	return n, err
}

func (p *progressFile) Close() error { return p.f.Close() }

// putManifest uploads a manifest under tag.
func (c *repoClient) putManifest(ctx context.Context, tag string, data []byte, mt types.MediaType) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, c.url("manifests", tag), bytes.NewReader(data))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", string(mt))
	resp, err := c.client.Do(req)
	if err != nil {
		return classify(fmt.Errorf("put manifest: %w", err), "")
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	if err := transport.CheckError(resp, http.StatusOK, http.StatusCreated, http.StatusAccepted); err != nil {
		return classify(fmt.Errorf("put manifest: %w", err), "")
	}
	return nil
}

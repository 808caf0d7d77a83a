package image

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Pull fetches the image ref names from its registry and stores it under
// that name (by digest, "REPO@DIGEST", as Podman names such an image). A short name is tried on each of Candidates in turn.
//
// An index is resolved to the image for the platform (WithPlatform, the
// host's by default). The manifest and config are checked against their
// digests and sizes; layers are downloaded a few at a time
// (WithJobs), each decompressed (gzip, zstd or none) and indexed while it
// streams into the store, its compressed digest and size and its DiffID
// checked before it can be used. A layer the store has is not fetched; one
// that another nook is fetching is waited for. The image enters
// images.json last, under the store's lock, so it is there whole or not at
// all. A pull that fails removes what it wrote (when no other operation
// holds the store); one that is cancelled keeps the layers it completed, so
// the next pull resumes from them.
//
// Errors match ErrNotFound (no such repository, tag or digest anywhere
// tried), ErrUnauthorized, ErrUnreachable, ErrPlatformNotFound,
// ErrDigestMismatch, ErrNoSpace, ErrUnsupported or ErrBlocked.
func (s *Store) Pull(ctx context.Context, ref string, opts ...RemoteOption) (Image, error) {
	o, err := makeRemoteOptions(opts)
	if err != nil {
		return Image{}, fmt.Errorf("pull %s: %w", ref, err)
	}
	cands, err := o.registries.Candidates(ref)
	if err != nil {
		return Image{}, fmt.Errorf("pull %s: %w", ref, err)
	}
	s.sweepTemporaries()
	var tried []string
	var errs []error
	for _, c := range cands {
		img, err := s.pullName(ctx, c, o, &tried)
		if err == nil {
			return img, nil
		}
		if len(cands) == 1 || !(errors.Is(err, ErrNotFound) || errors.Is(err, ErrUnauthorized)) {
			return Image{}, withTried(fmt.Errorf("pull %s: %w", c, err), tried)
		}
		errs = append(errs, fmt.Errorf("%s: %w", c, err))
	}
	err = fmt.Errorf("pull %s: %w", ref, errors.Join(errs...))
	return Image{}, withTried(err, tried)
}

// withTried makes err a *RegistryError naming the registries tried.
func withTried(err error, tried []string) error {
	var uniq []string
	for _, t := range tried {
		if !contains(uniq, t) {
			uniq = append(uniq, t)
		}
	}
	if len(uniq) == 0 {
		return err
	}
	return &RegistryError{Tried: uniq, Err: err}
}

// RegistryError is the error of a pull or push that reached for
// registries: it names the registries (hosts) tried, in order, and wraps
// what went wrong.
type RegistryError struct {
	Tried []string
	Err   error
}

func (e *RegistryError) Error() string {
	return fmt.Sprintf("%s (tried %s)", strings.ReplaceAll(e.Err.Error(), "\n", "; "), strings.Join(e.Tried, ", "))
}

func (e *RegistryError) Unwrap() error { return e.Err }

// pullName pulls a full name from its endpoints: mirrors first, falling
// back to the next on any failure, then the registry itself.
func (s *Store) pullName(ctx context.Context, full string, o *remoteOptions, tried *[]string) (Image, error) {
	repo, ident := SplitName(full)
	eps, err := o.registries.endpoints(repo, strings.HasPrefix(ident, "sha256:"))
	if err != nil {
		return Image{}, err
	}
	var mirrorErrs []error
	for _, ep := range eps {
		host, _, _ := strings.Cut(ep.repo, "/")
		*tried = append(*tried, host)
		img, err := s.pullFrom(ctx, full, repo, ident, ep, o)
		if err == nil {
			return img, nil
		}
		if !ep.mirror || ctx.Err() != nil {
			if len(mirrorErrs) > 0 {
				err = fmt.Errorf("%w (mirrors: %w)", err, errors.Join(mirrorErrs...))
			}
			return Image{}, err
		}
		mirrorErrs = append(mirrorErrs, fmt.Errorf("mirror %s: %w", ep.repo, err))
	}
	return Image{}, errors.Join(mirrorErrs...)
}

// remoteImage is an image manifest and config fetched and checked.
type remoteImage struct {
	top      string // digest of what the reference named (index or manifest)
	manifest []byte
	digest   string // the manifest's digest
	mf       *v1.Manifest
	config   []byte
	cf       *v1.ConfigFile
	id       string
}

func (s *Store) pullFrom(ctx context.Context, full, repo, ident string, ep endpoint, o *remoteOptions) (Image, error) {
	o.progress.Status("Trying to pull " + full + "...")
	c, err := dial(ctx, ep.repo, ep.insecure, o, transport.PullScope)
	if err != nil {
		return Image{}, err
	}
	ri, err := resolve(ctx, c, ident, o)
	if err != nil {
		return Image{}, err
	}
	// By digest, the image is named REPO@DIGEST, as Podman names it: not
	// dangling (prune keeps it), listed with the tag <none>.
	p := &pending{config: ri.config, id: ri.id, cf: ri.cf, manifest: ri.manifest, names: []string{full}}
	p.digests = []string{repo + "@" + ri.top}
	if ri.digest != ri.top {
		p.digests = append(p.digests, repo+"@"+ri.digest)
	}
	for i, l := range ri.mf.Layers {
		if err := checkLayerType(l); err != nil {
			return Image{}, err
		}
		p.layers = append(p.layers, pendingLayer{
			diffID: ri.cf.RootFS.DiffIDs[i].String(),
			digest: l.Digest.String(),
			size:   l.Size,
		})
	}
	return s.fetchAndCommit(ctx, c, p, o)
}

// resolve fetches the manifest ident names, following indexes to the
// platform's image, and the image's config.
func resolve(ctx context.Context, c *repoClient, ident string, o *remoteOptions) (*remoteImage, error) {
	data, mt, err := c.manifest(ctx, ident)
	if err != nil {
		return nil, err
	}
	ri := &remoteImage{top: digestOf(data)}
	what := c.repo.Name() + ":" + ident
	if strings.HasPrefix(ident, "sha256:") {
		what = c.repo.Name() + "@" + ident
	}
	for depth := 0; ; depth++ {
		if mt == "" || mt == "application/json" || mt == "text/plain" {
			mt = sniffMediaType(data)
		}
		switch mt {
		case types.OCIImageIndex, types.DockerManifestList:
			if depth >= maxIndexNest {
				return nil, fmt.Errorf("%s: image indexes nested deeper than %d: %w", what, maxIndexNest, ErrUnsupported)
			}
			idx, err := v1.ParseIndexManifest(bytes.NewReader(data))
			if err != nil {
				return nil, fmt.Errorf("%s: parse image index: %w: %v", what, ErrUnsupported, err)
			}
			d, err := pickPlatform(idx, o.platform, what)
			if err != nil {
				return nil, err
			}
			if data, mt, err = c.manifest(ctx, d.Digest.String()); err != nil {
				return nil, err
			}
			if int64(len(data)) != d.Size {
				return nil, fmt.Errorf("manifest %s is %d bytes, the index says %d: %w", d.Digest, len(data), d.Size, ErrDigestMismatch)
			}
		case types.OCIManifestSchema1, types.DockerManifestSchema2:
			return ri, ri.image(ctx, c, data, what, o)
		case types.DockerManifestSchema1, types.DockerManifestSchema1Signed:
			return nil, fmt.Errorf("%s has a Docker schema 1 manifest, which nook does not pull (push the image again with a current docker, podman or skopeo): %w", what, ErrUnsupported)
		default:
			return nil, fmt.Errorf("%s is a %q, not an image: %w", what, mt, ErrUnsupported)
		}
	}
}

// sniffMediaType reads the mediaType field of a manifest served without
// a usable Content-Type.
func sniffMediaType(data []byte) types.MediaType {
	var m struct {
		MediaType types.MediaType `json:"mediaType"`
		Manifests []any           `json:"manifests"`
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return ""
	}
	if m.MediaType == "" && m.Manifests != nil {
		return types.OCIImageIndex
	}
	if m.MediaType == "" {
		return types.OCIManifestSchema1
	}
	return m.MediaType
}

// image reads an image manifest and fetches its config.
func (ri *remoteImage) image(ctx context.Context, c *repoClient, data []byte, what string, o *remoteOptions) error {
	mf, err := v1.ParseManifest(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("%s: parse manifest: %w: %v", what, ErrUnsupported, err)
	}
	if len(mf.Layers) > maxLayers {
		return fmt.Errorf("%s has %d layers, over the limit of %d: %w", what, len(mf.Layers), maxLayers, ErrUnsupported)
	}
	cfg, err := c.readBlob(ctx, mf.Config.Digest.String(), mf.Config.Size, maxConfig)
	if err != nil {
		return fmt.Errorf("%s: config: %w", what, err)
	}
	cf, id, err := parseConfig(cfg, len(mf.Layers), mf.Config.Digest.String())
	if err != nil {
		// parseConfig speaks of archives; a registry's config is no archive.
		return fmt.Errorf("%s: %w", what, also(err, ErrUnsupported))
	}
	if !platformMatches(cf, o.platform) {
		if o.platformSet {
			return fmt.Errorf("%s is an image for %s, not %s: %w", what, platformOf(cf), platformString(o.platform), ErrPlatformNotFound)
		}
		o.progress.Status(fmt.Sprintf("WARNING: image platform (%s) does not match the expected platform (%s)", platformOf(cf), platformString(o.platform)))
	}
	ri.manifest, ri.digest, ri.mf, ri.config, ri.cf, ri.id = data, digestOf(data), mf, cfg, cf, id
	return nil
}

// layerTypes are the layer media types nook pulls; the layer package
// tells gzip, zstd and plain tars apart by their first bytes.
var layerTypes = []types.MediaType{
	types.OCILayer, types.OCILayerZStd, types.OCIUncompressedLayer,
	types.DockerLayer, types.DockerUncompressedLayer,
	types.OCIRestrictedLayer, types.OCIUncompressedRestrictedLayer,
	"application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
}

func checkLayerType(d v1.Descriptor) error {
	if _, ok := digestHex(d.Digest.String()); !ok {
		return fmt.Errorf("layer digest %q is not a sha256 digest: %w", d.Digest.String(), ErrUnsupported)
	}
	if d.Size < 0 {
		return fmt.Errorf("layer %s has a negative size: %w", d.Digest, ErrUnsupported)
	}
	for _, t := range layerTypes {
		if d.MediaType == t {
			return nil
		}
	}
	if d.MediaType == types.DockerForeignLayer {
		return fmt.Errorf("layer %s is a foreign (Windows) layer: %w", d.Digest, ErrUnsupported)
	}
	return fmt.Errorf("layer %s has media type %q, not a layer tar: %w", d.Digest, d.MediaType, ErrUnsupported)
}

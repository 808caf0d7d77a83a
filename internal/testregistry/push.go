package testregistry

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// Push writes img to the registry as repoTag ("repo:tag"), with the
// registry's credentials.
func (r *Registry) Push(ctx context.Context, repoTag string, img v1.Image) error {
	return Push(ctx, r.Ref(repoTag), img, r.Auth())
}

// Push writes img to the full reference ref (host:port/repo:tag) with
// auth: for a registry that another part of a test started.
func Push(ctx context.Context, ref string, img v1.Image, auth authn.Authenticator) error {
	r, err := name.ParseReference(ref, name.StrictValidation)
	if err != nil {
		return fmt.Errorf("push: parse reference %q: %w", ref, err)
	}
	if err := remote.Write(r, img, remote.WithContext(ctx), remote.WithAuth(auth)); err != nil {
		return fmt.Errorf("push %s: %w", r, err)
	}
	return nil
}

// Has reports whether the registry holds repoTag, by a HEAD of its
// manifest.
func (r *Registry) Has(ctx context.Context, repoTag string) (bool, error) {
	ref, err := name.ParseReference(r.Ref(repoTag), name.StrictValidation)
	if err != nil {
		return false, fmt.Errorf("look up %q in %s: parse reference: %w", repoTag, r.host, err)
	}
	if _, err := remote.Head(ref, r.remoteOptions(ctx)...); err != nil {
		if isNotFound(err) {
			return false, nil
		}
		return false, fmt.Errorf("look up %s: %w", ref, err)
	}
	return true, nil
}

func (r *Registry) remoteOptions(ctx context.Context) []remote.Option {
	return []remote.Option{remote.WithContext(ctx), remote.WithAuth(r.Auth())}
}

// isNotFound reports whether err is the registry's 404.
func isNotFound(err error) bool {
	var te *transport.Error
	return errors.As(err, &te) && te.StatusCode == http.StatusNotFound
}

// Image reads repoTag's image from the registry (lazily: layers are
// fetched when read), with the registry's credentials.
func (r *Registry) Image(ctx context.Context, repoTag string) (v1.Image, error) {
	ref, err := name.ParseReference(r.Ref(repoTag), name.StrictValidation)
	if err != nil {
		return nil, fmt.Errorf("read %q from %s: parse reference: %w", repoTag, r.host, err)
	}
	img, err := remote.Image(ref, r.remoteOptions(ctx)...)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", ref, err)
	}
	return img, nil
}

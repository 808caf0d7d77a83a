package image

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// CheckLogin checks user and password with registry (a key of
// NormalizeRegistry; a repository path in it is ignored): the registry's
// API root must answer 200 with them, after the token dance when the
// registry uses tokens. Wrong credentials are ErrUnauthorized.
func CheckLogin(ctx context.Context, registry, user, password string, opts ...RemoteOption) error {
	o, err := makeRemoteOptions(opts)
	if err != nil {
		return fmt.Errorf("log in to %s: %w", registry, err)
	}
	host := hostOf(registry)
	if host == dockerHub {
		host = name.DefaultRegistry
	}
	insecure := !o.tlsVerify || o.registries.insecure(host)
	var nopts []name.Option
	if insecure {
		nopts = append(nopts, name.Insecure)
	}
	reg, err := name.NewRegistry(host, nopts...)
	if err != nil {
		return fmt.Errorf("log in to %s: %w", registry, ErrInvalidReference)
	}
	auth := authn.FromConfig(authn.AuthConfig{Username: user, Password: password})
	rt, err := transport.NewWithContext(ctx, reg, auth, baseTransport(o, insecure), nil)
	if err != nil {
		return fmt.Errorf("log in to %s: %w", registry, classify(err, host))
	}
	u := url.URL{Scheme: reg.Scheme(), Host: reg.RegistryStr(), Path: "/v2/"}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return err
	}
	resp, err := (&http.Client{Transport: rt}).Do(req)
	if err != nil {
		return fmt.Errorf("log in to %s: %w", registry, classify(err, host))
	}
	defer resp.Body.Close()
	if err := transport.CheckError(resp, http.StatusOK); err != nil {
		return fmt.Errorf("log in to %s: %w", registry, classify(err, host))
	}
	return nil
}

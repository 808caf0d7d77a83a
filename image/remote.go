package image

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// repoClient talks to one repository of one registry, authenticated for
// the scopes it was made with (go-containerregistry's transport does the
// ping, basic auth and the bearer token dance).
type repoClient struct {
	repo   name.Repository
	client *http.Client
	rt     http.RoundTripper // the authenticated transport, for go-containerregistry's remote
}

// dial makes a client for repo ("host/path"). insecure allows plain HTTP
// and unverified TLS for it.
func dial(ctx context.Context, repo string, insecure bool, o *remoteOptions, actions ...string) (*repoClient, error) {
	var nopts []name.Option
	host, _, _ := strings.Cut(repo, "/")
	insecure = insecure || !o.tlsVerify || o.registries.insecure(host)
	if insecure {
		nopts = append(nopts, name.Insecure)
	}
	r, err := name.NewRepository(repo, nopts...)
	if err != nil {
		return nil, fmt.Errorf("repository %q: %w", repo, ErrInvalidReference)
	}
	auth, err := authn.Resolve(ctx, o.keychain, r)
	if err != nil {
		return nil, fmt.Errorf("credentials for %s: %w", r.RegistryStr(), err)
	}
	base := baseTransport(o, insecure)
	scopes := make([]string, 0, len(actions))
	for _, a := range actions {
		scopes = append(scopes, r.Scope(a))
	}
	rt, err := transport.NewWithContext(ctx, r.Registry, auth, base, scopes)
	if err != nil {
		return nil, classify(fmt.Errorf("connect to %s: %w", r.RegistryStr(), err), r.RegistryStr())
	}
	return &repoClient{repo: r, client: &http.Client{Transport: rt}, rt: rt}, nil
}

// baseTransport is the transport under authentication: o's, without TLS
// verification for an insecure registry, retrying temporary failures
// briefly (a refused connection is no temporary failure).
func baseTransport(o *remoteOptions, insecure bool) http.RoundTripper {
	base := o.transport
	if insecure {
		if t, ok := base.(*http.Transport); ok {
			t = t.Clone()
			t.TLSClientConfig = &tls.Config{InsecureSkipVerify: true}
			base = t
		}
	}
	base = transport.NewRetry(base, transport.WithRetryBackoff(transport.Backoff{Duration: 200 * time.Millisecond, Factor: 2, Jitter: 0.1, Steps: 3}))
	return transport.NewUserAgent(base, "nook")
}

func (c *repoClient) url(kind, ref string) string {
	u := url.URL{Scheme: c.repo.Scheme(), Host: c.repo.RegistryStr(), Path: "/v2/" + c.repo.RepositoryStr() + "/" + kind + "/" + ref}
	return u.String()
}

// manifestTypes are the manifests nook asks for (and pulls).
var manifestTypes = []types.MediaType{
	types.OCIImageIndex, types.DockerManifestList,
	types.OCIManifestSchema1, types.DockerManifestSchema2,
}

// manifest fetches the manifest ref (a tag or a digest) names, at most
// maxJSON bytes, and its media type. A manifest asked for by digest must
// hash to it.
func (c *repoClient) manifest(ctx context.Context, ref string) ([]byte, types.MediaType, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url("manifests", ref), nil)
	if err != nil {
		return nil, "", err
	}
	accept := make([]string, len(manifestTypes))
	for i, t := range manifestTypes {
		accept[i] = string(t)
	}
	req.Header.Set("Accept", strings.Join(accept, ","))
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, "", classify(err, c.repo.RegistryStr())
	}
	defer resp.Body.Close()
	if err := transport.CheckError(resp, http.StatusOK); err != nil {
		return nil, "", classify(err, c.repo.RegistryStr())
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxJSON+1))
	if err != nil {
		return nil, "", classify(fmt.Errorf("read manifest: %w", err), c.repo.RegistryStr())
	}
	if len(data) > maxJSON {
		return nil, "", fmt.Errorf("manifest %s is over the limit of %d bytes: %w", ref, maxJSON, ErrUnsupported)
	}
	if strings.HasPrefix(ref, "sha256:") && digestOf(data) != ref {
		return nil, "", fmt.Errorf("manifest %s hashes to %s: %w", ref, digestOf(data), ErrDigestMismatch)
	}
	mt := types.MediaType(strings.TrimSpace(strings.Split(resp.Header.Get("Content-Type"), ";")[0]))
	return data, mt, nil
}

// blob opens the blob digest for reading.
func (c *repoClient) blob(ctx context.Context, digest string) (io.ReadCloser, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url("blobs", digest), nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, classify(err, c.repo.RegistryStr())
	}
	if err := transport.CheckError(resp, http.StatusOK); err != nil {
		resp.Body.Close()
		return nil, classify(err, c.repo.RegistryStr())
	}
	return resp.Body, nil
}

// readBlob fetches a small blob whole and checks its size and digest.
func (c *repoClient) readBlob(ctx context.Context, digest string, size, max int64) ([]byte, error) {
	if size < 0 || size > max {
		return nil, fmt.Errorf("blob %s has size %d, over the limit of %d: %w", digest, size, max, ErrUnsupported)
	}
	rc, err := c.blob(ctx, digest)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, size+1))
	if err != nil {
		return nil, classify(fmt.Errorf("read blob %s: %w", digest, err), c.repo.RegistryStr())
	}
	if int64(len(data)) != size {
		return nil, fmt.Errorf("blob %s is %d bytes, its descriptor says %d: %w", digest, len(data), size, ErrDigestMismatch)
	}
	if got := digestOf(data); got != digest {
		return nil, fmt.Errorf("blob %s hashes to %s: %w", digest, got, ErrDigestMismatch)
	}
	return data, nil
}

// classify makes a registry error match this package's sentinels:
// ErrNotFound, ErrUnauthorized or ErrUnreachable.
func classify(err error, _ string) error {
	if err == nil {
		return nil
	}
	// A ping tries HTTPS, then (for loopback and insecure registries)
	// HTTP: a certificate failure is the first's, whatever the second met.
	var cve *tls.CertificateVerificationError
	if errors.As(err, &cve) {
		return also(err, ErrUnreachable)
	}
	var te *transport.Error
	if errors.As(err, &te) {
		for _, d := range te.Errors {
			switch d.Code {
			case transport.UnauthorizedErrorCode, transport.DeniedErrorCode:
				return also(err, ErrUnauthorized)
			case transport.ManifestUnknownErrorCode, transport.NameUnknownErrorCode, transport.BlobUnknownErrorCode:
				return also(err, ErrNotFound)
			}
		}
		switch te.StatusCode {
		case http.StatusUnauthorized, http.StatusForbidden:
			return also(err, ErrUnauthorized)
		case http.StatusNotFound:
			return also(err, ErrNotFound)
		}
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var ne net.Error
	var oe *net.OpError
	var dns *net.DNSError
	var ue *url.Error
	switch {
	case errors.As(err, &dns), errors.As(err, &oe), errors.As(err, &ne), errors.As(err, &ue),
		errors.Is(err, io.ErrUnexpectedEOF):
		return also(err, ErrUnreachable)
	}
	return err
}

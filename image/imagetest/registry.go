package imagetest

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Registry is go-containerregistry's in-process registry (pkg/registry)
// served over plain HTTP on 127.0.0.1, behind a handler that tests
// steer: it counts requests, can demand Basic auth or the bearer token
// dance, can flip bytes of chosen blobs and can stall a blob download
// halfway. The registry itself is real; nothing is mocked.
type Registry struct {
	// Host is "127.0.0.1:PORT".
	Host string

	srv   *httptest.Server
	tls   bool
	auth  string // "", "basic" or "token"
	user  string
	pass  string
	token string

	mu       sync.Mutex
	requests map[string]int // by "METHOD PATH"
	corrupt  map[string]bool
	stall    *stall
}

// stall holds the next blob download after its first half.
type stall struct {
	once    bool
	started chan struct{}
	release chan struct{}
	begun   bool
}

// RegistryOption adjusts NewRegistry.
type RegistryOption func(*Registry) error

// WithBasicAuth makes the registry demand HTTP Basic auth as user:pass.
func WithBasicAuth(user, pass string) RegistryOption {
	return func(r *Registry) error {
		r.auth, r.user, r.pass = "basic", user, pass
		return nil
	}
}

// WithTokenAuth makes the registry demand a bearer token, which its
// /token endpoint gives for Basic auth as user:pass (the Docker
// distribution token dance).
func WithTokenAuth(user, pass string) RegistryOption {
	return func(r *Registry) error {
		r.auth, r.user, r.pass, r.token = "token", user, pass, "imagetest-token-"+user
		return nil
	}
}

// WithTLS serves HTTPS with a certificate of httptest's own, which no
// client trusts (as a site registry's self-signed one): clients must skip
// verification.
func WithTLS() RegistryOption {
	return func(r *Registry) error {
		r.tls = true
		return nil
	}
}

// NewRegistry starts a registry; Close stops it.
func NewRegistry(opts ...RegistryOption) (*Registry, error) {
	r := &Registry{requests: map[string]int{}, corrupt: map[string]bool{}}
	for _, opt := range opts {
		if err := opt(r); err != nil {
			return nil, err
		}
	}
	inner := registry.New(registry.Logger(log.New(discard{}, "", 0)))
	r.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.serve(inner, w, req)
	}))
	r.srv.Config.ErrorLog = log.New(discard{}, "", 0)
	if r.tls {
		r.srv.StartTLS()
	} else {
		r.srv.Start()
	}
	r.Host = strings.TrimPrefix(strings.TrimPrefix(r.srv.URL, "http://"), "https://")
	return r, nil
}

// StartRegistry is NewRegistry for a test, closed when it ends.
func StartRegistry(t testing.TB, opts ...RegistryOption) *Registry {
	t.Helper()
	r, err := NewRegistry(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	return r
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// Close stops the registry, ending any stalled download.
func (r *Registry) Close() {
	r.Release()
	r.srv.CloseClientConnections()
	r.srv.Close()
}

// Requests counts the requests of method for path ("/v2/NAME/blobs/DIGEST").
func (r *Registry) Requests(method, path string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.requests[method+" "+path]
}

// BlobGets counts the GET requests for blob digest of any repository.
func (r *Registry) BlobGets(digest string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for k, c := range r.requests {
		if strings.HasPrefix(k, "GET /v2/") && strings.HasSuffix(k, "/blobs/"+digest) {
			n += c
		}
	}
	return n
}

// Corrupt makes the registry serve blob digest with one byte flipped
// (in its middle), as a damaged disk or a hostile mirror would.
func (r *Registry) Corrupt(digest string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.corrupt[digest] = true
}

// Stall makes the next blob download (one only) send half of the blob,
// then wait until Release or until the client goes away. The returned
// channel is closed once that download has sent its half.
func (r *Registry) Stall() <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stall = &stall{once: true, started: make(chan struct{}), release: make(chan struct{})}
	return r.stall.started
}

// Release lets a stalled download go on.
func (r *Registry) Release() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stall != nil {
		select {
		case <-r.stall.release:
		default:
			close(r.stall.release)
		}
	}
}

// Keychain gives the registry's credentials (anonymous when it has none),
// for pushing test images into it.
func (r *Registry) Keychain() authn.Keychain {
	if r.auth == "" {
		return authn.NewMultiKeychain()
	}
	return staticKeychain{authn.FromConfig(authn.AuthConfig{Username: r.user, Password: r.pass})}
}

type staticKeychain struct{ a authn.Authenticator }

func (k staticKeychain) Resolve(authn.Resource) (authn.Authenticator, error) { return k.a, nil }

// Push writes img to the registry as repo:tag ("test/busybox:1"; the
// host is added).
func (r *Registry) Push(ref string, img v1.Image) error {
	tag, err := name.ParseReference(r.Host + "/" + ref)
	if err != nil {
		return fmt.Errorf("push %s: %w", ref, err)
	}
	if err := remote.Write(tag, img, remote.WithAuthFromKeychain(r.Keychain()), remote.WithTransport(r.transport())); err != nil {
		return fmt.Errorf("push %s: %w", ref, err)
	}
	return nil
}

// PushIndex writes idx and its images to the registry as ref.
func (r *Registry) PushIndex(ref string, idx v1.ImageIndex) error {
	tag, err := name.ParseReference(r.Host + "/" + ref)
	if err != nil {
		return fmt.Errorf("push %s: %w", ref, err)
	}
	if err := remote.WriteIndex(tag, idx, remote.WithAuthFromKeychain(r.Keychain()), remote.WithTransport(r.transport())); err != nil {
		return fmt.Errorf("push %s: %w", ref, err)
	}
	return nil
}

// transport is a client transport that trusts the registry.
func (r *Registry) transport() http.RoundTripper {
	if r.tls {
		return r.srv.Client().Transport
	}
	return remote.DefaultTransport
}

func (r *Registry) serve(inner http.Handler, w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	r.requests[req.Method+" "+req.URL.Path]++
	r.mu.Unlock()
	if req.URL.Path == "/token" {
		r.serveToken(w, req)
		return
	}
	if !r.authorized(req) {
		switch r.auth {
		case "basic":
			w.Header().Set("WWW-Authenticate", `Basic realm="imagetest"`)
		case "token":
			w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="%s/token",service="imagetest"`, r.srv.URL))
		}
		writeError(w, http.StatusUnauthorized, "UNAUTHORIZED", "authentication required")
		return
	}
	if req.Method == http.MethodGet && strings.Contains(req.URL.Path, "/blobs/sha256:") {
		digest := req.URL.Path[strings.LastIndex(req.URL.Path, "/")+1:]
		r.mu.Lock()
		flip, st := r.corrupt[digest], r.stall
		if st != nil && !st.begun {
			st.begun = true
		} else {
			st = nil
		}
		r.mu.Unlock()
		if flip || st != nil {
			rec := httptest.NewRecorder()
			inner.ServeHTTP(rec, req)
			body := rec.Body.Bytes()
			if flip && len(body) > 0 {
				body[len(body)/2] ^= 0xff
			}
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			w.WriteHeader(rec.Code)
			if st == nil {
				w.Write(body)
				return
			}
			half := len(body) / 2
			w.Write(body[:half])
			if f, ok := w.(http.Flusher); ok {
				f.Flush()
			}
			close(st.started)
			select {
			case <-st.release:
				w.Write(body[half:])
			case <-req.Context().Done():
			}
			return
		}
	}
	inner.ServeHTTP(w, req)
}

func (r *Registry) authorized(req *http.Request) bool {
	h := req.Header.Get("Authorization")
	switch r.auth {
	case "basic":
		u, p, ok := req.BasicAuth()
		return ok && r.credentialsMatch(u, p)
	case "token":
		return subtle.ConstantTimeCompare([]byte(h), []byte("Bearer "+r.token)) == 1
	}
	return true
}

func (r *Registry) credentialsMatch(u, p string) bool {
	return subtle.ConstantTimeCompare([]byte(u), []byte(r.user)) == 1 && subtle.ConstantTimeCompare([]byte(p), []byte(r.pass)) == 1
}

// serveToken is the token endpoint: Basic auth as the registry's user
// gives a bearer token.
func (r *Registry) serveToken(w http.ResponseWriter, req *http.Request) {
	u, p, ok := req.BasicAuth()
	if r.auth != "token" || !ok || !r.credentialsMatch(u, p) {
		writeError(w, http.StatusUnauthorized, "UNAUTHORIZED", "bad credentials")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]string{"token": r.token, "access_token": r.token})
}

func writeError(w http.ResponseWriter, code int, errCode, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]string{{"code": errCode, "message": msg}}})
}

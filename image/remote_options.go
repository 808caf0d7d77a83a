package image

import (
	"fmt"
	"net/http"
	"runtime"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// RemoteOption adjusts Pull, Push and Login.
type RemoteOption func(*remoteOptions) error

type remoteOptions struct {
	platform v1.Platform
	// platformSet: the caller chose the platform, so an image for
	// another one is refused rather than taken with a warning.
	platformSet bool
	progress    Progress
	registries  *Registries
	keychain    authn.Keychain
	tlsVerify   bool
	jobs        int
	transport   http.RoundTripper
}

// defaultJobs is how many layers move at once: Docker's default of three
// keeps a link busy while two cores decompress and index.
const defaultJobs = 3

func makeRemoteOptions(opts []RemoteOption) (*remoteOptions, error) {
	o := &remoteOptions{
		platform:   hostPlatform(),
		progress:   noProgress{},
		registries: &Registries{},
		keychain:   DefaultKeychain(),
		tlsVerify:  true,
		jobs:       defaultJobs,
		transport:  http.DefaultTransport,
	}
	for _, opt := range opts {
		if err := opt(o); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// hostPlatform is the platform nook runs on.
func hostPlatform() v1.Platform {
	p := v1.Platform{OS: runtime.GOOS, Architecture: runtime.GOARCH}
	if p.Architecture == "arm64" {
		p.Variant = "v8"
	}
	return p
}

// ParsePlatform reads "os/arch" or "os/arch/variant" ("linux/arm64",
// "linux/arm/v7"), as --platform takes it.
func ParsePlatform(s string) (v1.Platform, error) {
	parts := strings.Split(s, "/")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" || (len(parts) == 3 && parts[2] == "") {
		return v1.Platform{}, fmt.Errorf("platform %q: want os/arch or os/arch/variant, e.g. linux/amd64 or linux/arm/v7", s)
	}
	p := v1.Platform{OS: parts[0], Architecture: parts[1]}
	if len(parts) == 3 {
		p.Variant = parts[2]
	}
	return p, nil
}

// WithPlatform picks the image of an index for platform ("os/arch" or
// "os/arch/variant"); the host's by default.
func WithPlatform(platform string) RemoteOption {
	return func(o *remoteOptions) error {
		if platform == "" {
			return nil
		}
		p, err := ParsePlatform(platform)
		if err != nil {
			return err
		}
		o.platform, o.platformSet = p, true
		return nil
	}
}

// WithProgress sends progress to p.
func WithProgress(p Progress) RemoteOption {
	return func(o *remoteOptions) error {
		if p != nil {
			o.progress = p
		}
		return nil
	}
}

// WithRegistries uses r for short names, mirrors, insecure and blocked
// registries; without it, none are configured (Docker's behaviour).
func WithRegistries(r *Registries) RemoteOption {
	return func(o *remoteOptions) error {
		if r != nil {
			o.registries = r
		}
		return nil
	}
}

// WithKeychain takes credentials from k instead of DefaultKeychain.
func WithKeychain(k authn.Keychain) RemoteOption {
	return func(o *remoteOptions) error {
		if k != nil {
			o.keychain = k
		}
		return nil
	}
}

// WithTLSVerify(false) allows plain HTTP and unverified TLS certificates
// for every registry, as podman's --tls-verify=false. Loopback registries
// (localhost:PORT, 127.0.0.1:PORT) speak plain HTTP either way.
func WithTLSVerify(verify bool) RemoteOption {
	return func(o *remoteOptions) error {
		o.tlsVerify = verify
		return nil
	}
}

// WithJobs sets how many layers move at once (3 by default).
func WithJobs(n int) RemoteOption {
	return func(o *remoteOptions) error {
		if n < 1 || n > 64 {
			return fmt.Errorf("parallel transfers %d: want 1 to 64", n)
		}
		o.jobs = n
		return nil
	}
}

// WithTransport sends requests through t instead of http.DefaultTransport
// (its TLS settings are replaced for insecure registries).
func WithTransport(t http.RoundTripper) RemoteOption {
	return func(o *remoteOptions) error {
		if t == nil {
			return fmt.Errorf("nil transport")
		}
		o.transport = t
		return nil
	}
}

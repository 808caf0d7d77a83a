package nook

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/spf13/cobra"

	"github.com/nookrun/nook/image"
)

// remoteFlags are the flags of the commands that talk to registries, with
// podman's names.
type remoteFlags struct {
	tlsVerify bool
	authfile  string
	platform  string
}

func (f *remoteFlags) add(c *cobra.Command, platform bool) {
	fl := c.Flags()
	fl.BoolVar(&f.tlsVerify, "tls-verify", true, "Require HTTPS and verify certificates (loopback registries speak plain HTTP either way)")
	fl.StringVar(&f.authfile, "authfile", "", "Credentials file (default $REGISTRY_AUTH_FILE, else $XDG_RUNTIME_DIR/containers/auth.json, then Docker's config.json)")
	if platform {
		fl.StringVar(&f.platform, "platform", "", "Pull the image for this platform, os/arch[/variant] (default the host's)")
	}
}

// options turns the flags into the image package's options, with the
// registries.conf files read.
func (f *remoteFlags) options(progress image.Progress) ([]image.RemoteOption, error) {
	regs, err := image.LoadRegistries(image.DefaultRegistriesFiles())
	if err != nil {
		return nil, err
	}
	kc := image.DefaultKeychain()
	if f.authfile != "" {
		kc = image.FileKeychain(f.authfile)
	}
	return []image.RemoteOption{
		image.WithRegistries(regs),
		image.WithKeychain(kc),
		image.WithTLSVerify(f.tlsVerify),
		image.WithPlatform(f.platform),
		image.WithProgress(progress),
	}, nil
}

// registryError turns a failed pull or push of ref into one line that
// names the problem and what to do.
func registryError(op, ref string, err error) error {
	tried := ""
	var re *image.RegistryError
	if errors.As(err, &re) {
		tried = strings.Join(re.Tried, ", ")
	}
	firstHost := strings.Split(tried, ", ")[0]
	if firstHost == "" {
		firstHost = "REGISTRY"
	}
	var ce x509.CertificateInvalidError
	var ua x509.UnknownAuthorityError
	var hn x509.HostnameError
	var cve *tls.CertificateVerificationError
	switch {
	case errors.Is(err, image.ErrInvalidReference):
		return imageNotFound(ref, err)
	case op == "push" && errors.Is(err, image.ErrNotFound) && tried == "":
		return imageNotFound(ref, err)
	case errors.Is(err, image.ErrNotFound):
		return &userError{fmt.Sprintf("%s %s: no such image or tag in %s: check the name and tag (a private repository may need 'nook login %s')", op, ref, orNone(tried), firstHost), err}
	case errors.Is(err, image.ErrUnauthorized):
		return &userError{fmt.Sprintf("%s %s: not authorized by %s: run 'nook login %s' (or check the credentials it has)", op, ref, orNone(tried), firstHost), err}
	case errors.As(err, &cve), errors.As(err, &ce), errors.As(err, &ua), errors.As(err, &hn):
		return &userError{fmt.Sprintf("%s %s: TLS certificate of %s not trusted (%s): install its CA, or use --tls-verify=false for a registry you trust", op, ref, orNone(tried), rootCause(err)), err}
	case errors.Is(err, image.ErrUnreachable):
		return &userError{fmt.Sprintf("%s %s: registry %s unreachable (%s): offline, use 'nook load' or 'nook import', or a registry on this machine (localhost:PORT)", op, ref, orNone(tried), rootCause(err)), err}
	case errors.Is(err, image.ErrDigestMismatch):
		return &userError{fmt.Sprintf("%s %s: refused content that does not match its digest, nothing stored (%s): the registry or a proxy served damaged data; try again", op, ref, rootCause(err)), err}
	case errors.Is(err, image.ErrNoSpace):
		return &userError{fmt.Sprintf("%s %s: disk full, nothing kept (%s): free space (nook image prune) or use --root on a larger filesystem", op, ref, rootCause(err)), err}
	case errors.Is(err, image.ErrPlatformNotFound), errors.Is(err, image.ErrBlocked), errors.Is(err, image.ErrUnsupported):
		return err
	}
	return err
}

func orNone(s string) string {
	if s == "" {
		return "the registry"
	}
	return s
}

// rootCause is the innermost useful part of a network or digest error:
// "dial tcp 127.0.0.1:1: connect: connection refused", not the request
// around it.
func rootCause(err error) string {
	var cve *tls.CertificateVerificationError
	if errors.As(err, &cve) {
		return cve.Error()
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		return oe.Error()
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return dns.Error()
	}
	msg := err.Error()
	var re *image.RegistryError
	if errors.As(err, &re) {
		msg = re.Err.Error()
	}
	if i := strings.LastIndex(msg, ": layer "); i >= 0 {
		msg = msg[i+2:]
	}
	return msg
}

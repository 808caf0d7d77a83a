package nook

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/nookrun/nook/image"
)

func newPullCmd() *cobra.Command {
	var f remoteFlags
	var quiet bool
	c := &cobra.Command{
		Use:   "pull [OPTIONS] NAME[:TAG|@DIGEST]",
		Short: "Download an image from a registry",
		Long: `Pull downloads an image from a registry into the store and prints its ID.

A short name (busybox, org/app) is looked up as registries.conf says
(aliases, then unqualified-search-registries in turn), else on docker.io.
Files read: /etc/containers/registries.conf (or ~/.config/containers/
registries.conf), their registries.conf.d drop-ins, then nook's own
$XDG_CONFIG_HOME/nook/registries.conf. Of a multi-platform image, the host's
platform is pulled unless --platform names another. Layers already in the
store are not downloaded again; credentials come from 'nook login'.`,
		Example: `  nook pull busybox
  nook pull --platform linux/arm64 quay.io/org/app:1.2
  nook pull localhost:5000/mine@sha256:...`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			img, err := pullImage(cmd, &f, args[0], quiet)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), strings.TrimPrefix(img.ID, "sha256:"))
			return nil
		},
	}
	f.add(c, true)
	c.Flags().BoolVarP(&quiet, "quiet", "q", false, "Print only the image ID, no progress")
	return c
}

// pullImage pulls ref with progress on standard error (none when quiet).
func pullImage(cmd *cobra.Command, f *remoteFlags, ref string, quiet bool) (image.Image, error) {
	s, err := openStore(cmd)
	if err != nil {
		return image.Image{}, err
	}
	prog, done := newProgress(cmd.ErrOrStderr(), quiet, "Downloading", "Pull complete")
	opts, err := f.options(prog)
	if err != nil {
		done()
		return image.Image{}, err
	}
	img, err := s.Pull(cmd.Context(), ref, opts...)
	done()
	if err != nil {
		return image.Image{}, registryError("pull", ref, err)
	}
	return img, nil
}

// Pull policies of nook run --pull, as Podman and Docker name them.
const (
	pullAlways  = "always"
	pullMissing = "missing"
	pullNever   = "never"
)

// ensureImage applies nook run's --pull policy to ref and returns the
// reference to look the image up by: ref itself, or the full name a short
// name resolved to (through registries.conf's search registries) when the
// store has it by that name or it was pulled.
func ensureImage(cmd *cobra.Command, s *image.Store, ref, policy string) (string, error) {
	switch policy {
	case pullNever:
		return ref, nil
	case pullAlways, pullMissing:
	default:
		return "", usageErr(cmd, fmt.Errorf("--pull %q: want always, missing or never", policy))
	}
	local, err := s.Lookup(ref)
	switch {
	case err == nil && (policy == pullMissing || !namedBy(local, ref)):
		return ref, nil
	case err != nil && !errors.Is(err, image.ErrNotFound):
		return "", imageNotFound(ref, err)
	}
	if policy == pullMissing {
		regs, err := image.LoadRegistries(image.DefaultRegistriesFiles())
		if err != nil {
			return "", err
		}
		cands, err := regs.Candidates(ref)
		if err != nil {
			return "", imageNotFound(ref, err)
		}
		for _, c := range cands {
			if _, err := s.Lookup(c); err == nil {
				return c, nil
			}
		}
	}
	f := &remoteFlags{tlsVerify: true}
	img, err := pullImage(cmd, f, ref, false)
	if err != nil {
		return "", err
	}
	if n, err := image.NormalizeName(ref); err == nil && namedBy(img, n) {
		return n, nil
	}
	return img.ID, nil
}

// namedBy reports whether ref is one of img's names or digests (rather
// than its ID or an ID prefix): only then can a registry have it.
func namedBy(img image.Image, ref string) bool {
	n, err := image.NormalizeName(ref)
	if err != nil {
		return false
	}
	for _, x := range append(append([]string{}, img.Names...), img.Digests...) {
		if x == n {
			return true
		}
	}
	return strings.Contains(n, "@") && strings.HasSuffix(n, img.ManifestDigest)
}

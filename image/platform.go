package image

import (
	"fmt"
	"slices"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// platformString spells p as "os/arch[/variant]".
func platformString(p v1.Platform) string {
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}

// normVariant makes the variants that mean the same compare equal: arm64
// is v8 unless it says otherwise.
func normVariant(arch, variant string) string {
	if arch == "arm64" && variant == "" {
		return "v8"
	}
	return variant
}

// pickPlatform chooses the entry of an index for want: same OS and
// architecture, and the same variant when want has one (the entry without
// a variant, else the first, when it has none). Entries that are no
// image (attestations: unknown/unknown) are never chosen. It fails with
// ErrPlatformNotFound listing what the index has.
func pickPlatform(idx *v1.IndexManifest, want v1.Platform, what string) (v1.Descriptor, error) {
	var found []v1.Descriptor
	var have []string
	for _, d := range idx.Manifests {
		p := d.Platform
		if p == nil || p.OS == "unknown" {
			continue
		}
		have = append(have, platformString(*p))
		if p.OS != want.OS || p.Architecture != want.Architecture {
			continue
		}
		if want.Variant != "" && normVariant(p.Architecture, p.Variant) != normVariant(want.Architecture, want.Variant) {
			continue
		}
		found = append(found, d)
	}
	if len(found) == 0 {
		slices.Sort(have)
		have = slices.Compact(have)
		list := "none"
		if len(have) > 0 {
			list = strings.Join(have, ", ")
		}
		return v1.Descriptor{}, fmt.Errorf("%s has no image for %s, only for %s (choose one with --platform): %w", what, platformString(want), list, ErrPlatformNotFound)
	}
	for _, d := range found {
		if d.Platform.Variant == "" {
			return d, nil
		}
	}
	return found[0], nil
}

// platformMatches reports whether an image's config is for want.
func platformMatches(cf *v1.ConfigFile, want v1.Platform) bool {
	if cf.OS != want.OS || cf.Architecture != want.Architecture {
		return false
	}
	return want.Variant == "" || normVariant(cf.Architecture, cf.Variant) == normVariant(want.Architecture, want.Variant)
}

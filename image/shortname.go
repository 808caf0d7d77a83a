package image

import (
	"fmt"
	"strings"
)

// isShortName reports whether ref names no registry: its first path
// component has no "." or ":" and is not "localhost" ("busybox",
// "library/busybox", "org/app:1"), as Docker and Podman tell them apart.
func isShortName(ref string) bool {
	first, _, ok := strings.Cut(ref, "/")
	if !ok {
		return true
	}
	return !strings.ContainsAny(first, ".:") && first != "localhost"
}

// Candidates lists the full names (normalised, as NormalizeName) that
// ref may mean, in the order a pull tries them. A name with a registry is
// itself. A short name is its alias when registries.conf has one;
// otherwise it is tried on each unqualified-search registry in turn, or on
// docker.io alone when none is configured (Docker's behaviour; Podman
// without search registries refuses short names instead).
func (r *Registries) Candidates(ref string) ([]string, error) {
	full, err := NormalizeName(ref)
	if err != nil {
		return nil, err
	}
	if !isShortName(ref) {
		return []string{full}, nil
	}
	repo, suffix := splitSuffix(ref)
	if alias, ok := r.Aliases[repo]; ok {
		n, err := NormalizeName(alias + suffix)
		if err != nil {
			return nil, fmt.Errorf("registries.conf alias %s = %q: %w", repo, alias, err)
		}
		return []string{n}, nil
	}
	if len(r.Search) == 0 {
		return []string{full}, nil
	}
	var out []string
	for _, reg := range r.Search {
		n, err := NormalizeName(reg + "/" + ref)
		if err != nil {
			return nil, fmt.Errorf("unqualified-search registry %q: %w", reg, err)
		}
		if !contains(out, n) {
			out = append(out, n)
		}
	}
	return out, nil
}

// splitSuffix splits a reference into its repository and its ":tag" or
// "@digest" suffix (with the separator), "" when it has none.
func splitSuffix(ref string) (repo, suffix string) {
	if i := strings.Index(ref, "@"); i >= 0 {
		return ref[:i], ref[i:]
	}
	if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
		return ref[:i], ref[i:]
	}
	return ref, ""
}

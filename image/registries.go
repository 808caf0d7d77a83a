package image

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"
)

// Registries is what registries.conf files say about registries: where
// short names are searched, aliases, and per registry (or namespace) its
// location, mirrors, and whether it is insecure or blocked. The zero value
// is Docker's behaviour: short names are docker.io's, every registry is
// reached where its name says, with TLS.
type Registries struct {
	// Search lists the registries a short name ("busybox", "org/app") is
	// tried on, in order; empty means docker.io alone, as in Docker.
	Search []string
	// Aliases map a short name (without tag) to a full repository, as
	// containers' [aliases] tables do ("fedora" =
	// "registry.fedoraproject.org/fedora").
	Aliases map[string]string
	// Entries are the [[registry]] tables, by prefix.
	Entries []RegistryEntry
}

// RegistryEntry is one [[registry]] table of registries.conf.
type RegistryEntry struct {
	// Prefix is what references it applies to: "example.com",
	// "example.com/ns" or "*.example.com"; Location when empty.
	Prefix string `toml:"prefix"`
	// Location replaces Prefix when pulling ("" keeps it).
	Location string `toml:"location"`
	// Insecure allows plain HTTP and unverified TLS certificates.
	Insecure bool `toml:"insecure"`
	// Blocked refuses every pull from it.
	Blocked bool `toml:"blocked"`
	// MirrorByDigestOnly uses the mirrors only for references by digest.
	MirrorByDigestOnly bool `toml:"mirror-by-digest-only"`
	// Mirrors are tried in order before Location.
	Mirrors []RegistryMirror `toml:"mirror"`
}

// RegistryMirror is one [[registry.mirror]] table.
type RegistryMirror struct {
	Location string `toml:"location"`
	Insecure bool   `toml:"insecure"`
	// PullFromMirror is "all" (the default), "digest-only" or "tag-only".
	PullFromMirror string `toml:"pull-from-mirror"`
}

// registriesFile is one registries.conf as TOML: version 2 (what
// containers-registries.conf(5) documents) and the old version 1 tables.
type registriesFile struct {
	Search   *[]string         `toml:"unqualified-search-registries"`
	Registry []RegistryEntry   `toml:"registry"`
	Aliases  map[string]string `toml:"aliases"`
	V1       struct {
		Search   struct{ Registries []string } `toml:"search"`
		Insecure struct{ Registries []string } `toml:"insecure"`
		Block    struct{ Registries []string } `toml:"block"`
	} `toml:"registries"`
}

// DefaultRegistriesFiles lists the registries.conf files nook reads, in
// order, later ones overriding earlier ones: containers' main file
// ($CONTAINERS_REGISTRIES_CONF, else ~/.config/containers/registries.conf
// when it exists, else /etc/containers/registries.conf, as Podman picks
// one), the drop-ins of /etc/containers/registries.conf.d and
// ~/.config/containers/registries.conf.d in name order, and last nook's
// own $XDG_CONFIG_HOME/nook/registries.conf (same format). Missing files
// are skipped when they are read.
func DefaultRegistriesFiles() []string {
	cfgHome := os.Getenv("XDG_CONFIG_HOME")
	if !filepath.IsAbs(cfgHome) {
		if home, err := os.UserHomeDir(); err == nil && filepath.IsAbs(home) {
			cfgHome = filepath.Join(home, ".config")
		} else {
			cfgHome = ""
		}
	}
	var files []string
	main := "/etc/containers/registries.conf"
	if env := os.Getenv("CONTAINERS_REGISTRIES_CONF"); env != "" {
		main = env
	} else if cfgHome != "" {
		user := filepath.Join(cfgHome, "containers", "registries.conf")
		if _, err := os.Stat(user); err == nil {
			main = user
		}
	}
	files = append(files, main)
	dirs := []string{"/etc/containers/registries.conf.d"}
	if cfgHome != "" {
		dirs = append(dirs, filepath.Join(cfgHome, "containers", "registries.conf.d"))
	}
	for _, d := range dirs {
		matches, _ := filepath.Glob(filepath.Join(d, "*.conf"))
		sort.Strings(matches)
		files = append(files, matches...)
	}
	if cfgHome != "" {
		files = append(files, filepath.Join(cfgHome, "nook", "registries.conf"))
	}
	return files
}

// LoadRegistries reads registries.conf files in order (see
// DefaultRegistriesFiles), each overriding what the earlier ones set:
// unqualified-search-registries is replaced when a file sets it, aliases
// and [[registry]] tables replace those of the same key. A missing file
// is skipped; one that does not parse is an error naming it.
func LoadRegistries(files []string) (*Registries, error) {
	r := &Registries{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read registries config %s: %w", f, err)
		}
		var rf registriesFile
		if _, err := toml.Decode(string(data), &rf); err != nil {
			return nil, fmt.Errorf("read registries config %s: %w (see containers-registries.conf(5))", f, err)
		}
		if err := r.merge(&rf); err != nil {
			return nil, fmt.Errorf("read registries config %s: %w", f, err)
		}
	}
	return r, nil
}

func (r *Registries) merge(rf *registriesFile) error {
	if rf.Search != nil {
		r.Search = slices.Clone(*rf.Search)
	}
	if len(rf.V1.Search.Registries) > 0 {
		r.Search = slices.Clone(rf.V1.Search.Registries)
	}
	for k, v := range rf.Aliases {
		if r.Aliases == nil {
			r.Aliases = map[string]string{}
		}
		r.Aliases[k] = v
	}
	for _, e := range rf.Registry {
		if e.Prefix == "" {
			e.Prefix = e.Location
		}
		if e.Prefix == "" {
			return errors.New("a [[registry]] table has neither prefix nor location")
		}
		for _, m := range e.Mirrors {
			switch m.PullFromMirror {
			case "", "all", "digest-only", "tag-only":
			default:
				return fmt.Errorf("registry %s: mirror %s: pull-from-mirror %q: want all, digest-only or tag-only", e.Prefix, m.Location, m.PullFromMirror)
			}
		}
		r.set(e)
	}
	for _, reg := range rf.V1.Insecure.Registries {
		e := r.entry(reg)
		e.Insecure = true
		r.set(e)
	}
	for _, reg := range rf.V1.Block.Registries {
		e := r.entry(reg)
		e.Blocked = true
		r.set(e)
	}
	return nil
}

// entry is the table of exactly prefix, or a new one.
func (r *Registries) entry(prefix string) RegistryEntry {
	for _, e := range r.Entries {
		if e.Prefix == prefix {
			return e
		}
	}
	return RegistryEntry{Prefix: prefix}
}

func (r *Registries) set(e RegistryEntry) {
	for i := range r.Entries {
		if r.Entries[i].Prefix == e.Prefix {
			r.Entries[i] = e
			return
		}
	}
	r.Entries = append(r.Entries, e)
}

// match finds the entry whose prefix matches repo ("host/path") longest:
// a prefix matches at a path boundary, and "*.example.com" matches
// example.com's subdomains.
func (r *Registries) match(repo string) *RegistryEntry {
	var best *RegistryEntry
	bestLen := -1
	for i := range r.Entries {
		e := &r.Entries[i]
		n := prefixMatch(e.Prefix, repo)
		if n > bestLen {
			best, bestLen = e, n
		}
	}
	return best
}

// prefixMatch is the length of prefix when it matches repo, else -1.
func prefixMatch(prefix, repo string) int {
	if rest, ok := strings.CutPrefix(prefix, "*."); ok {
		host, _, _ := strings.Cut(repo, "/")
		if strings.HasSuffix(host, "."+rest) {
			return len(prefix)
		}
		return -1
	}
	if repo == prefix || strings.HasPrefix(repo, prefix+"/") {
		return len(prefix)
	}
	return -1
}

// endpoint is one place to pull a repository from.
type endpoint struct {
	repo     string // "host[:port]/path" to reach
	insecure bool   // plain HTTP and unverified TLS allowed
	mirror   bool
}

// endpoints lists where to pull repo ("host/path", fully qualified) from:
// its mirrors, then its location. byDigest says whether the reference is
// by digest (mirrors may be limited to one kind). A blocked registry is
// ErrBlocked.
func (r *Registries) endpoints(repo string, byDigest bool) ([]endpoint, error) {
	e := r.match(repo)
	if e == nil {
		return []endpoint{{repo: repo}}, nil
	}
	if e.Blocked {
		return nil, fmt.Errorf("%s: registries.conf blocks %s: %w", repo, e.Prefix, ErrBlocked)
	}
	rewrite := func(loc string) string {
		if strings.HasPrefix(e.Prefix, "*.") {
			return repo
		}
		return loc + strings.TrimPrefix(repo, e.Prefix)
	}
	var out []endpoint
	if byDigest || !e.MirrorByDigestOnly {
		for _, m := range e.Mirrors {
			switch {
			case m.PullFromMirror == "digest-only" && !byDigest,
				m.PullFromMirror == "tag-only" && byDigest:
				continue
			}
			out = append(out, endpoint{repo: rewrite(m.Location), insecure: m.Insecure, mirror: true})
		}
	}
	loc := e.Location
	if loc == "" {
		loc = e.Prefix
	}
	return append(out, endpoint{repo: rewrite(loc), insecure: e.Insecure}), nil
}

// insecure reports whether registries.conf marks the registry (a host)
// insecure.
func (r *Registries) insecure(host string) bool {
	e := r.match(host)
	return e != nil && e.Insecure
}

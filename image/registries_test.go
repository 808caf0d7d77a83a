package image

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/nookrun/nook/image/imagetest"
)

func writeConf(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadRegistries(t *testing.T) {
	dir := t.TempDir()
	main := writeConf(t, dir, "registries.conf", `
unqualified-search-registries = ["quay.io", "docker.io"]

[[registry]]
prefix = "example.com/team"
location = "mirror.internal/team"
insecure = true

[[registry.mirror]]
location = "cache.local/team"
pull-from-mirror = "digest-only"

[[registry]]
location = "evil.io"
blocked = true

[aliases]
"fedora" = "registry.fedoraproject.org/fedora"
`)
	dropin := writeConf(t, dir, "50-dropin.conf", `
[aliases]
"bb" = "docker.io/library/busybox"
`)
	nook := writeConf(t, dir, "nook.conf", `unqualified-search-registries = ["localhost:5000"]`)
	r, err := LoadRegistries([]string{main, filepath.Join(dir, "missing.conf"), dropin, nook})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(r.Search, []string{"localhost:5000"}) {
		t.Errorf("search = %v: the last file that sets it wins", r.Search)
	}
	for ref, want := range map[string][]string{
		"fedora:39":                       {"registry.fedoraproject.org/fedora:39"},
		"bb":                              {"docker.io/library/busybox:latest"},
		"app":                             {"localhost:5000/app:latest"},
		"quay.io/org/app:1":               {"quay.io/org/app:1"},
		"localhost/app":                   {"localhost/app:latest"},
		"library/busybox@sha256:" + zeros: {"localhost:5000/library/busybox@sha256:" + zeros},
	} {
		got, err := r.Candidates(ref)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("candidates %q = %v, %v; want %v", ref, got, err, want)
		}
	}
	eps, err := r.endpoints("example.com/team/app", false)
	if err != nil || len(eps) != 1 || eps[0].repo != "mirror.internal/team/app" || !eps[0].insecure {
		t.Errorf("by tag: %+v %v; want the location alone (the mirror is digest-only)", eps, err)
	}
	eps, err = r.endpoints("example.com/team/app", true)
	if err != nil || len(eps) != 2 || eps[0].repo != "cache.local/team/app" || !eps[0].mirror {
		t.Errorf("by digest: %+v %v; want the mirror first", eps, err)
	}
	if eps, _ := r.endpoints("example.com/teams/app", false); len(eps) != 1 || eps[0].repo != "example.com/teams/app" {
		t.Errorf("a prefix matches at a path boundary only: %+v", eps)
	}
	if _, err := r.endpoints("evil.io/x", false); !errors.Is(err, ErrBlocked) {
		t.Errorf("blocked: %v", err)
	}
	if _, err := LoadRegistries([]string{writeConf(t, dir, "bad.conf", "unqualified-search-registries = [")}); err == nil {
		t.Error("a bad file parsed")
	}
	// Without configuration, a short name is Docker Hub's.
	if got, _ := (&Registries{}).Candidates("busybox"); !reflect.DeepEqual(got, []string{"docker.io/library/busybox:latest"}) {
		t.Errorf("default = %v", got)
	}
}

const zeros = "0000000000000000000000000000000000000000000000000000000000000000"

func TestPullThroughMirrorAndSearch(t *testing.T) {
	primary := imagetest.StartRegistry(t)
	mirror := imagetest.StartRegistry(t)
	img := imagetest.Busybox(t)
	for _, reg := range []*imagetest.Registry{primary, mirror} {
		if err := reg.Push("team/bb:1", img); err != nil {
			t.Fatal(err)
		}
	}
	if err := primary.Push("team/only:1", img); err != nil {
		t.Fatal(err)
	}
	regs := &Registries{Entries: []RegistryEntry{{
		Prefix:  primary.Host,
		Mirrors: []RegistryMirror{{Location: mirror.Host}},
	}}}
	s := openStore(t)
	got, err := s.Pull(context.Background(), primary.Host+"/team/bb:1", anonymous(), WithRegistries(regs))
	if err != nil {
		t.Fatal(err)
	}
	if got.Names[0] != primary.Host+"/team/bb:1" {
		t.Errorf("named %v, want the name asked for", got.Names)
	}
	ds := layerDigests(t, img)
	if mirror.BlobGets(ds[0]) != 1 || primary.BlobGets(ds[0]) != 0 {
		t.Errorf("layer fetched %d times from the mirror, %d from the registry; want the mirror", mirror.BlobGets(ds[0]), primary.BlobGets(ds[0]))
	}
	// Not on the mirror: the registry itself.
	if _, err := s.Pull(context.Background(), primary.Host+"/team/only:1", anonymous(), WithRegistries(regs)); err != nil {
		t.Errorf("fallback from the mirror: %v", err)
	}
	// A short name tries each search registry in turn.
	search := &Registries{Search: []string{mirror.Host, primary.Host}}
	got, err = s.Pull(context.Background(), "team/only:1", anonymous(), WithRegistries(search))
	if err != nil || !slices.Contains(got.Names, primary.Host+"/team/only:1") {
		t.Errorf("short name: %v %v", got.Names, err)
	}
	_, err = s.Pull(context.Background(), "team/nothere:1", anonymous(), WithRegistries(search))
	var re *RegistryError
	if !errors.Is(err, ErrNotFound) || !errors.As(err, &re) || !reflect.DeepEqual(re.Tried, []string{mirror.Host, primary.Host}) {
		t.Errorf("short name nowhere: %v (tried %v)", err, re)
	}
}

package image

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/nookrun/nook/image/imagetest"
)

func TestPullWithAuth(t *testing.T) {
	for _, mode := range []string{"basic", "token"} {
		t.Run(mode, func(t *testing.T) {
			opt := imagetest.WithBasicAuth("alice", "s3cret")
			if mode == "token" {
				opt = imagetest.WithTokenAuth("alice", "s3cret")
			}
			reg := imagetest.StartRegistry(t, opt)
			if err := reg.Push("private/bb:1", imagetest.Busybox(t)); err != nil {
				t.Fatal(err)
			}
			ref := reg.Host + "/private/bb:1"
			s := openStore(t)
			dir := t.TempDir()
			auth := filepath.Join(dir, "auth.json")

			_, err := s.Pull(context.Background(), ref, WithKeychain(FileKeychain(auth)))
			if !errors.Is(err, ErrUnauthorized) {
				t.Fatalf("without credentials: %v, want ErrUnauthorized", err)
			}
			if err := CheckLogin(context.Background(), reg.Host, "alice", "wrong"); !errors.Is(err, ErrUnauthorized) {
				t.Errorf("login with a wrong password: %v, want ErrUnauthorized", err)
			}
			if err := SaveCredentials(auth, reg.Host, "alice", "wrong"); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Pull(context.Background(), ref, WithKeychain(FileKeychain(auth))); !errors.Is(err, ErrUnauthorized) {
				t.Errorf("wrong credentials: %v, want ErrUnauthorized", err)
			}
			if err := CheckLogin(context.Background(), reg.Host, "alice", "s3cret"); err != nil {
				t.Fatalf("login: %v", err)
			}
			if err := SaveCredentials(auth, reg.Host, "alice", "s3cret"); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Pull(context.Background(), ref, WithKeychain(FileKeychain(auth))); err != nil {
				t.Fatalf("with credentials: %v", err)
			}
		})
	}
}

func TestCredentialFiles(t *testing.T) {
	dir := t.TempDir()
	auth := filepath.Join(dir, "containers", "auth.json")
	docker := filepath.Join(dir, "docker.json")
	os.WriteFile(docker, []byte(`{"auths":{"https://index.docker.io/v1/":{"auth":"ZG9ja2VyOmh1Yg=="},"other.io":{"auth":"b3RoZXI6cA=="}},"detachKeys":"ctrl-x"}`), 0o600)
	if err := SaveCredentials(auth, "quay.io", "q", "pw"); err != nil {
		t.Fatal(err)
	}
	if err := SaveCredentials(auth, "quay.io/ns", "scoped", "pw2"); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(auth)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("auth file: %v %v, want mode 0600", fi.Mode(), err)
	}
	kc := FileKeychain(auth, docker)
	for _, c := range []struct{ repo, user string }{
		{"quay.io/ns/app", "scoped"},
		{"quay.io/other/app", "q"},
		{"docker.io/library/busybox", "docker"},
		{"other.io/x", "other"},
		{"nobody.io/x", ""},
	} {
		r, err := parseRepo(c.repo)
		if err != nil {
			t.Fatal(err)
		}
		a, err := kc.Resolve(r)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := a.Authorization()
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Username != c.user {
			t.Errorf("%s: user %q, want %q", c.repo, cfg.Username, c.user)
		}
	}
	found, err := RemoveCredentials(auth, "quay.io")
	if err != nil || !found {
		t.Fatalf("remove: %v %v", found, err)
	}
	if found, _ := RemoveCredentials(auth, "quay.io"); found {
		t.Error("removed twice")
	}
	if HasCredentials(auth, "quay.io") || !HasCredentials(auth, "quay.io/ns") {
		t.Error("wrong entries left")
	}
	// Other keys of a file survive an edit.
	if err := SaveCredentials(docker, "new.io", "n", "p"); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(docker)
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil || doc["detachKeys"] != "ctrl-x" {
		t.Errorf("docker config after an edit: %s", data)
	}
}

func TestCredentialHelper(t *testing.T) {
	bin := t.TempDir()
	helper := "#!/bin/sh\n[ \"$1\" = get ] || exit 1\nread server\necho \"{\\\"ServerURL\\\":\\\"$server\\\",\\\"Username\\\":\\\"helped\\\",\\\"Secret\\\":\\\"pw\\\"}\"\n"
	if err := os.WriteFile(filepath.Join(bin, "docker-credential-nooktest"), []byte(helper), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	cfg := filepath.Join(t.TempDir(), "config.json")
	os.WriteFile(cfg, []byte(`{"credHelpers":{"helped.io":"nooktest"}}`), 0o600)
	r, _ := parseRepo("helped.io/x/y")
	a, err := FileKeychain(cfg).Resolve(r)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := a.Authorization()
	if c.Username != "helped" || c.Password != "pw" {
		t.Errorf("from the helper: %+v", c)
	}
}

func TestNormalizeRegistry(t *testing.T) {
	for in, want := range map[string]string{
		"quay.io":                     "quay.io",
		"https://quay.io/":            "quay.io",
		"docker.io":                   "docker.io",
		"https://index.docker.io/v1/": "docker.io",
		"localhost:5000":              "localhost:5000",
		"quay.io/ns":                  "quay.io/ns",
	} {
		if got, err := NormalizeRegistry(in); err != nil || got != want {
			t.Errorf("%q: %q %v, want %q", in, got, err, want)
		}
	}
	if _, err := NormalizeRegistry("not a registry"); err == nil || !strings.Contains(err.Error(), "host name") {
		t.Errorf("bad registry: %v", err)
	}
}

func parseRepo(s string) (name.Repository, error) { return name.NewRepository(s) }

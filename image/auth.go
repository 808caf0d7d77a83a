package image

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/docker/docker-credential-helpers/client"
	"github.com/docker/docker-credential-helpers/credentials"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"

	"github.com/nookrun/nook/internal/atomicfile"
)

// Credentials are read from the files Podman reads, in its order, then
// from Docker's: $REGISTRY_AUTH_FILE alone when it is set (as Podman's
// --authfile); otherwise $XDG_RUNTIME_DIR/containers/auth.json,
// $XDG_CONFIG_HOME/containers/auth.json, then $DOCKER_CONFIG/config.json
// (default ~/.docker/config.json). Each may name credential helpers
// (credHelpers per registry, credsStore for all), run as
// docker-credential-NAME. nook login writes the first of these files
// (Podman's place), never Docker's.

// AuthFiles lists the credential files in the order they are searched.
func AuthFiles() []string {
	if f := os.Getenv("REGISTRY_AUTH_FILE"); f != "" {
		return []string{f}
	}
	var files []string
	if d := os.Getenv("XDG_RUNTIME_DIR"); filepath.IsAbs(d) {
		files = append(files, filepath.Join(d, "containers", "auth.json"))
	}
	home, _ := os.UserHomeDir()
	cfg := os.Getenv("XDG_CONFIG_HOME")
	if !filepath.IsAbs(cfg) && filepath.IsAbs(home) {
		cfg = filepath.Join(home, ".config")
	}
	if filepath.IsAbs(cfg) {
		files = append(files, filepath.Join(cfg, "containers", "auth.json"))
	}
	if d := os.Getenv("DOCKER_CONFIG"); d != "" {
		files = append(files, filepath.Join(d, "config.json"))
	} else if filepath.IsAbs(home) {
		files = append(files, filepath.Join(home, ".docker", "config.json"))
	}
	return files
}

// DefaultAuthFile is where nook login stores credentials: the first file
// of AuthFiles ($REGISTRY_AUTH_FILE, else $XDG_RUNTIME_DIR's
// containers/auth.json as Podman, else $XDG_CONFIG_HOME's).
func DefaultAuthFile() (string, error) {
	files := AuthFiles()
	if len(files) == 0 || strings.HasSuffix(files[0], "config.json") {
		return "", errors.New("find the credentials file: set XDG_RUNTIME_DIR or HOME, or give --authfile")
	}
	return files[0], nil
}

// DefaultKeychain finds credentials in AuthFiles, as Podman does.
func DefaultKeychain() authn.Keychain { return FileKeychain(AuthFiles()...) }

// FileKeychain finds credentials in files (auth.json or Docker's
// config.json format), the first that has some for a registry winning.
func FileKeychain(files ...string) authn.Keychain { return fileKeychain(files) }

type fileKeychain []string

// authFile is auth.json, or the part of Docker's config.json about
// credentials.
type authFile struct {
	Auths       map[string]authn.AuthConfig `json:"auths"`
	CredHelpers map[string]string           `json:"credHelpers"`
	CredsStore  string                      `json:"credsStore"`
}

func readAuthFile(p string) (*authFile, error) {
	data, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read credentials %s: %w", p, err)
	}
	var f authFile
	if len(strings.TrimSpace(string(data))) == 0 {
		return &f, nil
	}
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("read credentials %s: %w (fix or remove the file)", p, err)
	}
	return &f, nil
}

// Resolve implements authn.Keychain.
func (k fileKeychain) Resolve(target authn.Resource) (authn.Authenticator, error) {
	host := authHost(target.RegistryStr())
	path := ""
	if repo, ok := target.(name.Repository); ok {
		path = repo.RepositoryStr()
	}
	for _, p := range k {
		f, err := readAuthFile(p)
		if err != nil {
			return nil, err
		}
		if f == nil {
			continue
		}
		cfg, found, err := f.lookup(host, path)
		if err != nil {
			return nil, fmt.Errorf("credentials for %s from %s: %w", host, p, err)
		}
		if found {
			return authn.FromConfig(cfg), nil
		}
	}
	return authn.Anonymous, nil
}

// lookup finds credentials for host (and the repository path in it):
// a credential helper for the host, then the most specific "auths" key
// (Podman's auth.json may key by "host/namespace/repo"), then the store
// for every registry (credsStore).
func (f *authFile) lookup(host, path string) (authn.AuthConfig, bool, error) {
	if h := f.CredHelpers[host]; h != "" {
		return helperGet(h, host)
	}
	keys := []string{}
	for p := path; p != ""; {
		keys = append(keys, host+"/"+p)
		i := strings.LastIndex(p, "/")
		if i < 0 {
			break
		}
		p = p[:i]
	}
	keys = append(keys, host)
	for _, want := range keys {
		for key, cfg := range f.Auths {
			if authKey(key) == want && (cfg != authn.AuthConfig{}) {
				return cfg, true, nil
			}
		}
	}
	if f.CredsStore != "" {
		return helperGet(f.CredsStore, host)
	}
	return authn.AuthConfig{}, false, nil
}

// helperGet asks docker-credential-NAME for host's credentials.
func helperGet(helper, host string) (authn.AuthConfig, bool, error) {
	server := host
	if host == dockerHub {
		server = authn.DefaultAuthKey
	}
	c, err := client.Get(client.NewShellProgramFunc("docker-credential-"+helper), server)
	if credentials.IsErrCredentialsNotFound(err) {
		return authn.AuthConfig{}, false, nil
	}
	if err != nil {
		return authn.AuthConfig{}, false, fmt.Errorf("credential helper docker-credential-%s: %w", helper, err)
	}
	if c.Username == "<token>" {
		return authn.AuthConfig{IdentityToken: c.Secret}, true, nil
	}
	return authn.AuthConfig{Username: c.Username, Password: c.Secret}, true, nil
}

// authHost is the key credentials are filed under for a registry:
// Docker Hub is docker.io, whichever of its names a reference uses.
func authHost(registry string) string {
	switch registry {
	case name.DefaultRegistry, "registry-1.docker.io", dockerHub:
		return dockerHub
	}
	return registry
}

// authKey normalises a key of "auths": Docker writes
// "https://index.docker.io/v1/", Podman "docker.io", older tools
// "https://host/v2/"; repository paths are kept.
func authKey(key string) string {
	k := strings.TrimPrefix(strings.TrimPrefix(key, "https://"), "http://")
	k = strings.TrimSuffix(k, "/")
	k = strings.TrimSuffix(strings.TrimSuffix(k, "/v1"), "/v2")
	host, rest, _ := strings.Cut(k, "/")
	host = authHost(host)
	if rest != "" {
		return host + "/" + rest
	}
	return host
}

// NormalizeRegistry reads a registry as nook login takes it ("quay.io",
// "https://quay.io/", "localhost:5000", "docker.io/namespace") and gives
// the key its credentials are filed under.
func NormalizeRegistry(s string) (string, error) {
	k := authKey(strings.TrimSpace(s))
	host, _, _ := strings.Cut(k, "/")
	if _, err := name.NewRegistry(host); err != nil || host == "" {
		return "", fmt.Errorf("registry %q: want a host name and optional port, e.g. quay.io or localhost:5000: %w", s, ErrInvalidReference)
	}
	return k, nil
}

// SaveCredentials records user and password for registry (a key of
// NormalizeRegistry) in the auth file at path, creating it (0600, its
// directory 0700) when missing and keeping every other entry.
func SaveCredentials(path, registry, user, password string) error {
	return editAuthFile(path, func(auths map[string]json.RawMessage) (bool, error) {
		entry, err := json.Marshal(map[string]string{"auth": base64.StdEncoding.EncodeToString([]byte(user + ":" + password))})
		if err != nil {
			return false, err
		}
		for k := range auths {
			if authKey(k) == registry {
				delete(auths, k)
			}
		}
		auths[registry] = entry
		return true, nil
	})
}

// RemoveCredentials removes registry's credentials from the auth file at
// path; found is false when it had none.
func RemoveCredentials(path, registry string) (found bool, err error) {
	err = editAuthFile(path, func(auths map[string]json.RawMessage) (bool, error) {
		for k := range auths {
			if authKey(k) == registry {
				delete(auths, k)
				found = true
			}
		}
		return found, nil
	})
	return found, err
}

// RemoveAllCredentials empties the "auths" of the auth file at path.
func RemoveAllCredentials(path string) error {
	return editAuthFile(path, func(auths map[string]json.RawMessage) (bool, error) {
		changed := len(auths) > 0
		clear(auths)
		return changed, nil
	})
}

// HasCredentials reports whether the file at path has credentials of its
// own for registry.
func HasCredentials(path, registry string) bool {
	f, err := readAuthFile(path)
	if err != nil || f == nil {
		return false
	}
	for k, cfg := range f.Auths {
		if authKey(k) == registry && (cfg != authn.AuthConfig{}) {
			return true
		}
	}
	return f.CredHelpers[registry] != ""
}

// editAuthFile rewrites the file's "auths" with edit, keeping its other
// keys; the file is replaced atomically, 0600.
func editAuthFile(path string, edit func(map[string]json.RawMessage) (bool, error)) error {
	doc := map[string]json.RawMessage{}
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return fmt.Errorf("read credentials %s: %w", path, err)
	case len(strings.TrimSpace(string(data))) > 0:
		if err := json.Unmarshal(data, &doc); err != nil {
			return fmt.Errorf("read credentials %s: %w (fix or remove the file)", path, err)
		}
	}
	auths := map[string]json.RawMessage{}
	if raw, ok := doc["auths"]; ok {
		if err := json.Unmarshal(raw, &auths); err != nil {
			return fmt.Errorf("read credentials %s: auths: %w (fix or remove the file)", path, err)
		}
	}
	changed, err := edit(auths)
	if err != nil || !changed {
		return err
	}
	if doc["auths"], err = json.Marshal(auths); err != nil {
		return err
	}
	out, err := json.MarshalIndent(doc, "", "\t")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("write credentials %s: %w", path, err)
	}
	if err := atomicfile.WriteFile(path, append(out, '\n'), atomicfile.Options{Durable: true}); err != nil {
		return fmt.Errorf("write credentials %s: %w", path, err)
	}
	return nil
}

package testregistry

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
)

// config is docker-registry's configuration file. It is YAML, and JSON is
// YAML: encoding/json quotes any path correctly.
type config struct {
	Version string        `json:"version"`
	Log     configLog     `json:"log"`
	Storage configStorage `json:"storage"`
	HTTP    configHTTP    `json:"http"`
	Auth    *configAuth   `json:"auth,omitempty"`
}

type configLog struct {
	// warn: failed auth and fatal errors, not a line per request.
	Level     string `json:"level"`
	AccessLog struct {
		Disabled bool `json:"disabled"`
	} `json:"accesslog"`
}

type configStorage struct {
	Filesystem struct {
		RootDirectory string `json:"rootdirectory"`
	} `json:"filesystem"`
	Delete struct {
		Enabled bool `json:"enabled"`
	} `json:"delete"`
	// Upload purging is a background sweep of old uploads; a test
	// registry lives minutes and needs none.
	Maintenance struct {
		UploadPurging struct {
			Enabled bool `json:"enabled"`
		} `json:"uploadpurging"`
	} `json:"maintenance"`
}

type configHTTP struct {
	Addr string `json:"addr"`
	// Secret signs upload state; without one the registry makes one and
	// warns at every start.
	Secret string `json:"secret"`
}

type configAuth struct {
	Htpasswd struct {
		Realm string `json:"realm"`
		Path  string `json:"path"`
	} `json:"htpasswd"`
}

// writeConfig writes the configuration of a registry on addr storing
// blobs under storage, with htpasswd auth from htpasswd unless it is "".
func writeConfig(path, addr, storage, htpasswd string) error {
	var c config
	c.Version = "0.1"
	c.Log.Level = "warn"
	c.Log.AccessLog.Disabled = true
	c.Storage.Filesystem.RootDirectory = storage
	c.Storage.Delete.Enabled = true
	c.HTTP.Addr = addr
	var secret [16]byte
	if _, err := rand.Read(secret[:]); err != nil {
		return fmt.Errorf("make registry secret: %w", err)
	}
	c.HTTP.Secret = hex.EncodeToString(secret[:])
	if htpasswd != "" {
		c.Auth = &configAuth{}
		c.Auth.Htpasswd.Realm = "nook-test"
		c.Auth.Htpasswd.Path = htpasswd
	}
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return fmt.Errorf("encode registry config: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("write registry config: %w", err)
	}
	return nil
}

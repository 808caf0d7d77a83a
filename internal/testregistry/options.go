package testregistry

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Option adjusts how Start runs the registry.
type Option func(*options) error

type options struct {
	binary       string // "" looks docker-registry up on PATH, then in /usr/bin
	user         string // "" for no auth
	password     string
	startTimeout time.Duration
}

// defaultBinary is where Debian's package installs the registry; PATH is
// searched first.
const defaultBinary = "/usr/bin/docker-registry"

// portTries bounds how often Start picks another port after the registry
// found its port taken.
const portTries = 5

func defaultOptions() options {
	// Generous: the registry starts in milliseconds, but a loaded CI
	// machine can take seconds to schedule it.
	return options{startTimeout: 30 * time.Second}
}

// WithAuth makes the registry require basic auth as user with password
// (an htpasswd file with a bcrypt entry; needs apache2-utils' htpasswd).
func WithAuth(user, password string) Option {
	return func(o *options) error {
		if user == "" || strings.Contains(user, ":") {
			return fmt.Errorf("auth user %q: want a non-empty name without ':'", user)
		}
		if password == "" {
			return errors.New("auth password is empty")
		}
		o.user, o.password = user, password
		return nil
	}
}

// WithBinary runs the registry binary at path instead of docker-registry.
func WithBinary(path string) Option {
	return func(o *options) error {
		if path == "" {
			return errors.New("registry binary path is empty")
		}
		o.binary = path
		return nil
	}
}

// WithStartTimeout bounds the wait for the registry to answer (30 s by
// default).
func WithStartTimeout(d time.Duration) Option {
	return func(o *options) error {
		if d <= 0 {
			return fmt.Errorf("start timeout %v: want a positive duration", d)
		}
		o.startTimeout = d
		return nil
	}
}

func applyOptions(opts []Option) (options, error) {
	o := defaultOptions()
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return options{}, fmt.Errorf("registry option: %w", err)
		}
	}
	return o, nil
}

package imagetest

import (
	"fmt"
	"strings"
	"time"
)

// Option adjusts a test image.
type Option func(*options) error

// File is an extra regular file of an image's layer.
type File struct {
	Path    string // absolute path in the image
	Mode    int64  // permission bits, setuid/setgid/sticky included
	UID     int
	GID     int
	Content string
}

type options struct {
	entrypoint  []string
	cmd         []string
	user        string
	workdir     string
	env         []string
	stopSignal  string
	ports       []string
	labels      map[string]string
	files       []File
	created     time.Time
	platformArc string
	zstd        bool
}

// Created is the fixed creation time of the test images (and of their
// files), so that images are reproducible.
var Created = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

// DefaultPath is the PATH of the test images' environment.
const DefaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

func defaultOptions() options {
	return options{
		cmd:     []string{"sh"},
		env:     []string{DefaultPath},
		created: Created,
	}
}

// WithEntrypoint sets the image's Entrypoint.
func WithEntrypoint(args ...string) Option {
	return func(o *options) error {
		o.entrypoint = args
		return nil
	}
}

// WithCmd sets the image's Cmd (["sh"] by default); no arguments leave it
// empty.
func WithCmd(args ...string) Option {
	return func(o *options) error {
		o.cmd = args
		return nil
	}
}

// WithUser sets the image's User ("name", "uid" or "uid:gid").
func WithUser(u string) Option {
	return func(o *options) error {
		o.user = u
		return nil
	}
}

// WithWorkdir sets the image's WorkingDir, which must be absolute.
func WithWorkdir(dir string) Option {
	return func(o *options) error {
		if !strings.HasPrefix(dir, "/") {
			return fmt.Errorf("workdir %q is not absolute", dir)
		}
		o.workdir = dir
		return nil
	}
}

// WithEnv sets variables KEY=VALUE in the image's Env, replacing a
// variable of the same name (PATH included).
func WithEnv(kv ...string) Option {
	return func(o *options) error {
		for _, e := range kv {
			k, _, ok := strings.Cut(e, "=")
			if !ok || k == "" {
				return fmt.Errorf("env %q is not KEY=VALUE", e)
			}
			o.env = setEnv(o.env, k, e)
		}
		return nil
	}
}

func setEnv(env []string, key, kv string) []string {
	for i, e := range env {
		if strings.HasPrefix(e, key+"=") {
			env[i] = kv
			return env
		}
	}
	return append(env, kv)
}

// WithStopSignal sets the image's StopSignal ("SIGTERM", "15", ...).
func WithStopSignal(sig string) Option {
	return func(o *options) error {
		o.stopSignal = sig
		return nil
	}
}

// WithExposedPorts sets the image's ExposedPorts ("80/tcp", "53/udp").
func WithExposedPorts(ports ...string) Option {
	return func(o *options) error {
		for _, p := range ports {
			if !strings.Contains(p, "/") {
				return fmt.Errorf("exposed port %q: want PORT/PROTO", p)
			}
		}
		o.ports = append(o.ports, ports...)
		return nil
	}
}

// WithLabel sets a label of the image.
func WithLabel(key, value string) Option {
	return func(o *options) error {
		if o.labels == nil {
			o.labels = map[string]string{}
		}
		o.labels[key] = value
		return nil
	}
}

// WithFile adds a regular file to the image's first layer (its parent
// directories are made 0755 root:root when missing).
func WithFile(f File) Option {
	return func(o *options) error {
		if !strings.HasPrefix(f.Path, "/") || strings.Contains(f.Path, "..") {
			return fmt.Errorf("file path %q is not absolute or has \"..\" in it", f.Path)
		}
		o.files = append(o.files, f)
		return nil
	}
}

// WithCreated sets the image's creation time (Created by default).
func WithCreated(t time.Time) Option {
	return func(o *options) error {
		o.created = t.UTC()
		return nil
	}
}

// WithArchitecture sets the image's architecture (the host's by default),
// for tests of platform handling; the busybox binary stays the host's.
func WithArchitecture(arch string) Option {
	return func(o *options) error {
		o.platformArc = arch
		return nil
	}
}

// WithZstd compresses the image's layers with zstd (media type
// application/vnd.oci.image.layer.v1.tar+zstd) instead of gzip.
func WithZstd() Option {
	return func(o *options) error {
		o.zstd = true
		return nil
	}
}

func applyOptions(opts []Option) (options, error) {
	o := defaultOptions()
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return options{}, fmt.Errorf("test image option: %w", err)
		}
	}
	return o, nil
}

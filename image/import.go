package image

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/nookrun/nook/layer"
)

// ImportOptions adjust Import.
type ImportOptions struct {
	// Changes are merged into the default config (see Import); ParseChanges
	// makes them from docker import's --change instructions.
	Changes v1.Config
	// Platform is "os/arch[/variant]"; the host's by default.
	Platform string
	// Message is the comment of the image's history entry.
	Message string
}

// defaultEnv is the environment an imported image starts with, the PATH
// that docker run and podman run give an image without one.
const defaultEnv = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// Import stores a root filesystem tar (plain, gzip or zstd) as a one-layer
// image named ref (none when ref is ""). The config is the default one (Env
// with a standard PATH, nothing else) with opts.Changes merged in: Env
// entries replace those of the same name, Labels, ExposedPorts and Volumes
// are added, and any other field set in Changes replaces the default.
func (s *Store) Import(ctx context.Context, r io.Reader, ref string, opts ImportOptions) (Image, error) {
	var names []string
	if ref != "" {
		n, err := normalizeTag(ref)
		if err != nil {
			return Image{}, fmt.Errorf("import: %w", err)
		}
		names = []string{n}
	}
	cf, err := importConfig(opts)
	if err != nil {
		return Image{}, fmt.Errorf("import: %w", err)
	}
	release, err := s.Hold()
	if err != nil {
		return Image{}, err
	}
	img, err := s.importLayer(ctx, r, cf, names)
	release()
	if err != nil {
		s.collectAfterFailure()
		return Image{}, fmt.Errorf("import: %w", err)
	}
	return img, nil
}

func (s *Store) importLayer(ctx context.Context, r io.Reader, cf *v1.ConfigFile, names []string) (Image, error) {
	info, err := layer.Create(ctx, r, s.layers())
	if err != nil {
		return Image{}, fmt.Errorf("read root filesystem tar (plain, gzip or zstd): %w", err)
	}
	h, err := v1.NewHash(info.DiffID)
	if err != nil {
		return Image{}, err
	}
	cf.RootFS = v1.RootFS{Type: "layers", DiffIDs: []v1.Hash{h}}
	data, err := json.Marshal(cf)
	if err != nil {
		return Image{}, fmt.Errorf("make config: %w", err)
	}
	p := &pending{config: data, id: digestOf(data), cf: cf, names: names,
		layers: []pendingLayer{{diffID: info.DiffID, size: -1}}}
	imgs, err := s.commit([]*pending{p})
	if err != nil {
		return Image{}, err
	}
	return imgs[0], nil
}

// importConfig is the config of an imported image, before its layer.
func importConfig(opts ImportOptions) (*v1.ConfigFile, error) {
	osName, arch, variant := runtime.GOOS, runtime.GOARCH, ""
	if opts.Platform != "" {
		parts := strings.Split(opts.Platform, "/")
		if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" {
			return nil, fmt.Errorf("platform %q: want os/arch or os/arch/variant", opts.Platform)
		}
		osName, arch = parts[0], parts[1]
		if len(parts) == 3 {
			variant = parts[2]
		}
	}
	now := time.Now().UTC()
	return &v1.ConfigFile{
		Created:      v1.Time{Time: now},
		OS:           osName,
		Architecture: arch,
		Variant:      variant,
		Config:       MergeConfig(v1.Config{Env: []string{defaultEnv}}, opts.Changes),
		History: []v1.History{{
			Created:   v1.Time{Time: now},
			CreatedBy: "nook import",
			Comment:   opts.Message,
		}},
	}, nil
}

// MergeConfig returns base with the fields set in changes applied: Env
// entries replace those of the same name, Labels, ExposedPorts and Volumes
// are added to, and any other set field replaces base's.
func MergeConfig(base, changes v1.Config) v1.Config {
	out := base
	out.Env = append([]string(nil), base.Env...)
	for _, e := range changes.Env {
		out.Env = setEnv(out.Env, e)
	}
	if changes.Cmd != nil {
		out.Cmd = changes.Cmd
	}
	if changes.Entrypoint != nil {
		out.Entrypoint = changes.Entrypoint
	}
	if changes.WorkingDir != "" {
		out.WorkingDir = changes.WorkingDir
	}
	if changes.User != "" {
		out.User = changes.User
	}
	if changes.StopSignal != "" {
		out.StopSignal = changes.StopSignal
	}
	if changes.Healthcheck != nil {
		out.Healthcheck = changes.Healthcheck
	}
	if changes.Shell != nil {
		out.Shell = changes.Shell
	}
	out.Labels = mergeMap(base.Labels, changes.Labels)
	out.ExposedPorts = mergeMap(base.ExposedPorts, changes.ExposedPorts)
	out.Volumes = mergeMap(base.Volumes, changes.Volumes)
	return out
}

func mergeMap[V any](a, b map[string]V) map[string]V {
	if len(a) == 0 && len(b) == 0 {
		return nil
	}
	out := make(map[string]V, len(a)+len(b))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

// setEnv sets the variable of the KEY=VALUE entry kv in env.
func setEnv(env []string, kv string) []string {
	key, _, _ := strings.Cut(kv, "=")
	for i, e := range env {
		if k, _, _ := strings.Cut(e, "="); k == key {
			env[i] = kv
			return env
		}
	}
	return append(env, kv)
}

package imagetest

import (
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/compression"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/nookrun/nook/internal/nstest"
)

// BusyboxPath is the host binary the test images are made from.
const BusyboxPath = "/bin/busybox"

const (
	passwd = "root:x:0:0:root:/root:/bin/sh\n" +
		"user:x:1000:1000:user:/home/user:/bin/sh\n" +
		"nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
	group = "root:x:0:\n" +
		"user:x:1000:\n" +
		"nogroup:x:65534:\n"
)

// Busybox is NewBusybox for a test: it skips t when the host has no static
// busybox (fails it when NOOK_TEST_STRICT=1) and fails it on other errors.
func Busybox(t testing.TB, opts ...Option) v1.Image {
	t.Helper()
	img, err := NewBusybox(opts...)
	check(t, err)
	return img
}

// NewBusybox builds a one-layer image from the host's static busybox:
// /bin/busybox and a symlink per applet in /bin; /etc/passwd with root (0),
// user (1000, home /home/user) and nobody (65534), /etc/group to match;
// /tmp (1777), /root (0700), /home/user (1000:1000), and empty /dev, /proc
// and /sys. Its config runs "sh" with a standard PATH unless opts say
// otherwise.
func NewBusybox(opts ...Option) (v1.Image, error) {
	o, err := applyOptions(opts)
	if err != nil {
		return nil, err
	}
	base, err := busyboxLayer(o)
	if err != nil {
		return nil, err
	}
	return assemble(o, base)
}

func check(t testing.TB, err error) {
	t.Helper()
	switch {
	case err == nil:
	case errors.Is(err, ErrNoBusybox):
		nstest.Skip(t, err.Error())
	default:
		t.Fatalf("build test image: %v", err)
	}
}

// hostBusybox reads the host's busybox and its applet list, and checks that
// it is statically linked (a dynamic one would not run in the image).
func hostBusybox() (bin []byte, applets []string, err error) {
	bin, err = os.ReadFile(BusyboxPath)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrNoBusybox, err)
	}
	f, err := elf.NewFile(bytes.NewReader(bin))
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %s is not an ELF binary: %v", ErrNoBusybox, BusyboxPath, err)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return nil, nil, fmt.Errorf("%w: %s is dynamically linked", ErrNoBusybox, BusyboxPath)
		}
	}
	out, err := exec.Command(BusyboxPath, "--list").Output()
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %s --list: %v", ErrNoBusybox, BusyboxPath, err)
	}
	for _, a := range strings.Fields(string(out)) {
		if a != "busybox" && !strings.Contains(a, "/") {
			applets = append(applets, a)
		}
	}
	sort.Strings(applets)
	return bin, applets, nil
}

// busyboxLayer is the tar of the base layer, with o's extra files.
func busyboxLayer(o options) ([]byte, error) {
	bin, applets, err := hostBusybox()
	if err != nil {
		return nil, err
	}
	b := newTarBuilder(o.created)
	for _, d := range []string{"bin", "dev", "etc", "home", "proc", "sys"} {
		b.dir(d, 0o755, 0, 0)
	}
	b.dir("home/user", 0o755, 1000, 1000)
	b.dir("root", 0o700, 0, 0)
	b.dir("tmp", 0o1777, 0, 0)
	b.file("bin/busybox", 0o755, 0, 0, bin)
	for _, a := range applets {
		b.symlink("bin/"+a, "busybox")
	}
	b.file("etc/passwd", 0o644, 0, 0, []byte(passwd))
	b.file("etc/group", 0o644, 0, 0, []byte(group))
	for _, f := range o.files {
		b.file(f.Path, f.Mode, f.UID, f.GID, []byte(f.Content))
	}
	return b.bytes()
}

// assemble makes an image of the layer tars (bottom first) with o's config.
func assemble(o options, tars ...[]byte) (v1.Image, error) {
	var layers []v1.Layer
	for _, data := range tars {
		lopts := []tarball.LayerOption{tarball.WithMediaType(types.OCILayer)}
		if o.zstd {
			lopts = []tarball.LayerOption{tarball.WithCompression(compression.ZStd), tarball.WithMediaType(types.OCILayerZStd)}
		}
		l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
			return io.NopCloser(bytes.NewReader(data)), nil
		}, lopts...)
		if err != nil {
			return nil, fmt.Errorf("make test layer: %w", err)
		}
		layers = append(layers, l)
	}
	base := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	base = mutate.ConfigMediaType(base, types.OCIConfigJSON)
	img, err := mutate.AppendLayers(base, layers...)
	if err != nil {
		return nil, fmt.Errorf("make test image: %w", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("make test image config: %w", err)
	}
	cf = cf.DeepCopy()
	cf.Created = v1.Time{Time: o.created}
	cf.OS = "linux"
	cf.Architecture = runtime.GOARCH
	if o.platformArc != "" {
		cf.Architecture = o.platformArc
	}
	for i := range cf.History {
		cf.History[i].Created = cf.Created
		cf.History[i].CreatedBy = "imagetest"
	}
	cf.Config = v1.Config{
		Entrypoint: o.entrypoint,
		Cmd:        o.cmd,
		User:       o.user,
		WorkingDir: o.workdir,
		Env:        o.env,
		StopSignal: o.stopSignal,
		Labels:     o.labels,
	}
	if len(o.ports) > 0 {
		cf.Config.ExposedPorts = map[string]struct{}{}
		for _, p := range o.ports {
			cf.Config.ExposedPorts[p] = struct{}{}
		}
	}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, fmt.Errorf("set test image config: %w", err)
	}
	return img, nil
}

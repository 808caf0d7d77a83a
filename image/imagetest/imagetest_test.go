package imagetest

import (
	"archive/tar"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// files lists the headers of a layer by name.
func files(t *testing.T, l v1.Layer) map[string]*tar.Header {
	t.Helper()
	rc, err := l.Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	m := map[string]*tar.Header{}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return m
		}
		if err != nil {
			t.Fatal(err)
		}
		m[h.Name] = h
	}
}

func TestBusyboxContents(t *testing.T) {
	img := Busybox(t, WithCmd("echo", "hi"), WithUser("1000"), WithWorkdir("/tmp"), WithEnv("A=b"),
		WithStopSignal("SIGINT"), WithExposedPorts("80/tcp"), WithFile(File{Path: "/etc/extra", Mode: 0o600, Content: "x"}))
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	c := cf.Config
	if len(c.Cmd) != 2 || c.User != "1000" || c.WorkingDir != "/tmp" || c.StopSignal != "SIGINT" || len(c.Env) != 2 || c.Env[0] != DefaultPath || c.Env[1] != "A=b" {
		t.Errorf("config = %+v", c)
	}
	if _, ok := c.ExposedPorts["80/tcp"]; !ok {
		t.Errorf("exposed ports = %v", c.ExposedPorts)
	}
	layers, err := img.Layers()
	if err != nil || len(layers) != 1 {
		t.Fatalf("layers = %d, %v; want 1", len(layers), err)
	}
	m := files(t, layers[0])
	for name, want := range map[string]struct {
		typ      byte
		mode     int64
		uid, gid int
	}{
		"bin/busybox": {tar.TypeReg, 0o755, 0, 0},
		"bin/sh":      {tar.TypeSymlink, 0o777, 0, 0},
		"etc/passwd":  {tar.TypeReg, 0o644, 0, 0},
		"etc/extra":   {tar.TypeReg, 0o600, 0, 0},
		"tmp/":        {tar.TypeDir, 0o1777, 0, 0},
		"home/user/":  {tar.TypeDir, 0o755, 1000, 1000},
		"proc/":       {tar.TypeDir, 0o755, 0, 0},
	} {
		h, ok := m[name]
		if !ok {
			t.Errorf("%s missing", name)
			continue
		}
		if h.Typeflag != want.typ || h.Mode != want.mode || h.Uid != want.uid || h.Gid != want.gid {
			t.Errorf("%s: type %c mode %o owner %d:%d, want %c %o %d:%d", name, h.Typeflag, h.Mode, h.Uid, h.Gid, want.typ, want.mode, want.uid, want.gid)
		}
	}
}

func TestDeterministic(t *testing.T) {
	a, b := Busybox(t), Busybox(t)
	da, err := a.ConfigName()
	if err != nil {
		t.Fatal(err)
	}
	db, _ := b.ConfigName()
	if da != db {
		t.Errorf("two builds give IDs %s and %s", da, db)
	}
}

func TestManyOwners(t *testing.T) {
	img := ManyOwners(t)
	layers, err := img.Layers()
	if err != nil || len(layers) != 2 {
		t.Fatalf("layers = %d, %v; want 2", len(layers), err)
	}
	if _, ok := files(t, layers[0])["etc/whited-out"]; !ok {
		t.Errorf("first layer lacks etc/whited-out")
	}
	m := files(t, layers[1])
	if h := m["owners/setuid-busybox"]; h == nil || h.Mode != 0o4755 {
		t.Errorf("setuid binary: %+v", h)
	}
	if h := m["owners/null"]; h == nil || h.Typeflag != tar.TypeChar || h.Devmajor != 1 || h.Devminor != 3 {
		t.Errorf("device: %+v", h)
	}
	if h := m["owners/user-file"]; h == nil || h.Uid != 1000 || h.Gid != 1000 {
		t.Errorf("user file: %+v", h)
	}
	if _, ok := m["etc/.wh.whited-out"]; !ok {
		t.Errorf("no whiteout in the second layer")
	}
}

// TestWritersReadBack reads each written format back with
// go-containerregistry and gets the same image.
func TestWritersReadBack(t *testing.T) {
	img := Busybox(t)
	want, _ := img.Digest()
	dir := t.TempDir()

	docker := filepath.Join(dir, "docker.tar")
	if err := WriteDockerArchive(img, "busybox:latest", docker, "example.com/bb:1"); err != nil {
		t.Fatal(err)
	}
	m, err := tarball.LoadManifest(func() (io.ReadCloser, error) { return openFile(docker) })
	if err != nil || len(m) != 1 || len(m[0].RepoTags) != 2 {
		t.Fatalf("docker archive manifest = %+v, %v", m, err)
	}
	tag, _ := name.NewTag("busybox:latest")
	back, err := tarball.ImageFromPath(docker, &tag)
	if err != nil {
		t.Fatal(err)
	}
	wantID, _ := img.ConfigName()
	if id, _ := back.ConfigName(); id != wantID {
		t.Errorf("docker archive image ID %s, want %s", id, wantID)
	}

	lay := filepath.Join(dir, "layout")
	if err := WriteOCILayout(img, "busybox:latest", lay); err != nil {
		t.Fatal(err)
	}
	idx, err := layout.ImageIndexFromPath(lay)
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil || len(im.Manifests) != 1 || im.Manifests[0].Digest != want || im.Manifests[0].Annotations[AnnotationRefName] != "busybox:latest" {
		t.Fatalf("layout index = %+v, %v", im, err)
	}

	if err := WriteOCIArchive(img, "", filepath.Join(dir, "oci.tar")); err != nil {
		t.Fatal(err)
	}
}

func openFile(p string) (io.ReadCloser, error) { return os.Open(p) }

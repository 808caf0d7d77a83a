package image

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/klauspost/compress/gzip"

	"github.com/nookrun/nook/image/imagetest"
	"github.com/nookrun/nook/layer"
)

// TestLoadFormats loads the same image from every format and checks what
// the store then has.
func TestLoadFormats(t *testing.T) {
	img := imagetest.Busybox(t, imagetest.WithCmd("echo", "hi"), imagetest.WithUser("1000"))
	id := configName(t, img)
	dir := t.TempDir()
	docker := filepath.Join(dir, "docker.tar")
	ociTar := filepath.Join(dir, "oci.tar")
	ociDir := filepath.Join(dir, "layout")
	gz := filepath.Join(dir, "docker.tar.gz")
	for _, err := range []error{
		imagetest.WriteDockerArchive(img, "busybox:latest", docker, "example.com/bb:1"),
		imagetest.WriteOCIArchive(img, "busybox:latest", ociTar, "example.com/bb:1"),
		imagetest.WriteOCILayout(img, "busybox:latest", ociDir, "example.com/bb:1"),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	raw, err := os.ReadFile(docker)
	if err != nil {
		t.Fatal(err)
	}
	var zbuf bytes.Buffer
	zw := gzip.NewWriter(&zbuf)
	zw.Write(raw)
	zw.Close()
	if err := os.WriteFile(gz, zbuf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		load func(s *Store) ([]Image, error)
	}{
		{"docker-archive", func(s *Store) ([]Image, error) { return s.Load(context.Background(), docker) }},
		{"docker-archive.gz", func(s *Store) ([]Image, error) { return s.Load(context.Background(), gz) }},
		{"oci-archive", func(s *Store) ([]Image, error) { return s.Load(context.Background(), ociTar) }},
		{"oci-layout", func(s *Store) ([]Image, error) { return s.Load(context.Background(), ociDir) }},
		{"stdin", func(s *Store) ([]Image, error) { return s.LoadReader(context.Background(), bytes.NewReader(raw)) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := openStore(t)
			imgs, err := tc.load(s)
			if err != nil {
				t.Fatal(err)
			}
			want := []string{"docker.io/library/busybox:latest", "example.com/bb:1"}
			if len(imgs) != 1 || imgs[0].ID != id || !slices.Equal(imgs[0].Names, want) {
				t.Fatalf("loaded %+v, want one image %s named %q", imgs, id, want)
			}
			got := imgs[0]
			if got.Platform != "linux/"+runtime.GOARCH || got.Config.User != "1000" || !slices.Equal(got.Config.Cmd, []string{"echo", "hi"}) || !got.Created.Equal(imagetest.Created) {
				t.Errorf("image = %+v", got)
			}
			if len(got.Layers) != 1 {
				t.Fatalf("layers = %+v", got.Layers)
			}
			l, err := layer.OpenFiles(got.Layers[0].Tar, got.Layers[0].Index)
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			if fi, _ := os.Stat(got.Layers[0].Tar); got.Size != fi.Size() || l.DiffID() != got.Layers[0].DiffID {
				t.Errorf("size %d, tar %d bytes; diffid %s, index says %s", got.Size, fi.Size(), got.Layers[0].DiffID, l.DiffID())
			}
			for _, ref := range []string{"busybox", "busybox:latest", "docker.io/library/busybox", "example.com/bb:1", id, id[7:], id[7:19], id[:11]} {
				if found, err := s.Lookup(ref); err != nil || found.ID != id {
					t.Errorf("Lookup(%q) = %s, %v", ref, found.ID, err)
				}
			}
			if found, err := s.Lookup("busybox@" + got.ManifestDigest); err != nil || found.ID != id {
				t.Errorf("Lookup by digest = %s, %v", found.ID, err)
			}
		})
	}
}

// TestReloadIsNoop loads an archive twice: the second time writes nothing.
func TestReloadIsNoop(t *testing.T) {
	s := openStore(t)
	arch := dockerArchive(t, imagetest.ManyOwners(t), "owners:1")
	mustLoad(t, s, arch)
	before := snapshot(t, s.Root())
	imgs := mustLoad(t, s, arch)
	if d := diffSnapshots(before, snapshot(t, s.Root())); len(d) > 0 {
		t.Errorf("reloading changed the store: %q", d)
	}
	if len(imgs) != 1 || len(imgs[0].Layers) != 2 {
		t.Errorf("reload gave %+v", imgs)
	}
}

// TestLayersShared loads two images that differ only in config: one layer
// on disk.
func TestLayersShared(t *testing.T) {
	s := openStore(t)
	mustLoad(t, s, dockerArchive(t, imagetest.Busybox(t), "a:1"))
	mustLoad(t, s, dockerArchive(t, imagetest.Busybox(t, imagetest.WithCmd("true")), "b:1"))
	if files := layerFiles(t, s); len(files) != 2 {
		t.Errorf("layers = %q, want one .tar and one .idx", files)
	}
	imgs, err := s.List()
	if err != nil || len(imgs) != 2 {
		t.Fatalf("List = %+v, %v", imgs, err)
	}
}

// TestLoadSeveralImages loads a docker-archive holding two images under
// three tags, and a name moving to another image.
func TestLoadSeveralImages(t *testing.T) {
	s := openStore(t)
	a := imagetest.Busybox(t)
	b := imagetest.ManyOwners(t)
	p := filepath.Join(t.TempDir(), "multi.tar")
	if err := imagetest.WriteDockerArchiveImages(p, map[string]v1.Image{"a:1": a, "a:2": a, "b:1": b}); err != nil {
		t.Fatal(err)
	}
	imgs := mustLoad(t, s, p)
	if len(imgs) != 2 {
		t.Fatalf("loaded %d images, want 2", len(imgs))
	}
	ia, err := s.Lookup("a:2")
	if err != nil || ia.ID != configName(t, a) || !slices.Equal(ia.Names, []string{"docker.io/library/a:1", "docker.io/library/a:2"}) {
		t.Errorf("a = %+v, %v", ia, err)
	}
	// The name b:1 moves to a; the old image stays, nameless.
	mustLoad(t, s, dockerArchive(t, a, "b:1"))
	ib, err := s.Lookup(configName(t, b))
	if err != nil || len(ib.Names) != 0 {
		t.Errorf("old b = %+v, %v; want it without names", ib, err)
	}
	if got, _ := s.Lookup("b:1"); got.ID != configName(t, a) {
		t.Errorf("b:1 is %s, want %s", got.ID, configName(t, a))
	}
}

// TestLoadUnnamed loads images that come without a name.
func TestLoadUnnamed(t *testing.T) {
	s := openStore(t)
	img := imagetest.Busybox(t)
	dir := filepath.Join(t.TempDir(), "layout")
	if err := imagetest.WriteOCILayout(img, "", dir); err != nil {
		t.Fatal(err)
	}
	imgs := mustLoad(t, s, dir)
	if len(imgs) != 1 || len(imgs[0].Names) != 0 || imgs[0].ID != configName(t, img) {
		t.Errorf("loaded %+v", imgs)
	}
	imgs = mustLoad(t, s, dockerArchive(t, img))
	if len(imgs) != 1 || len(imgs[0].Names) != 0 {
		t.Errorf("loaded %+v", imgs)
	}
}

// TestConcurrentLoad loads one archive from several goroutines, each with
// a Store of its own, and from two processes, at once.
func TestConcurrentLoad(t *testing.T) {
	root := filepath.Join(t.TempDir(), "store")
	arch := dockerArchive(t, imagetest.ManyOwners(t), "owners:1")
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	var procs []*exec.Cmd
	for range 2 {
		c := exec.Command(exe, "-test.run=^TestHelperLoad$")
		c.Env = append(os.Environ(), "NOOK_IMAGE_HELPER_LOAD="+root+"\n"+arch)
		var out bytes.Buffer
		c.Stdout, c.Stderr = &out, &out
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if out.Len() > 0 && t.Failed() {
				t.Logf("helper: %s", out.String())
			}
		})
		procs = append(procs, c)
	}
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			s, err := Open(root)
			if err == nil {
				_, err = s.Load(context.Background(), arch)
			}
			errs <- err
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	for _, c := range procs {
		if err := c.Wait(); err != nil {
			t.Errorf("helper process: %v", err)
		}
	}
	s, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	imgs, err := s.List()
	if err != nil || len(imgs) != 1 {
		t.Fatalf("List = %+v, %v", imgs, err)
	}
	if files := layerFiles(t, s); len(files) != 4 {
		t.Errorf("layers = %q, want two pairs", files)
	}
	checkConsistent(t, s)
}

// TestHelperLoad is the other process of TestConcurrentLoad.
func TestHelperLoad(t *testing.T) {
	arg := os.Getenv("NOOK_IMAGE_HELPER_LOAD")
	if arg == "" {
		t.Skip("helper process of TestConcurrentLoad only")
	}
	root, arch, _ := strings.Cut(arg, "\n")
	s, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load(context.Background(), arch); err != nil {
		t.Fatal(err)
	}
}

// TestConcurrentLoadRemove loads and removes images while others load:
// garbage collection never takes a layer a load is writing or an image
// needs.
func TestConcurrentLoadRemove(t *testing.T) {
	root := filepath.Join(t.TempDir(), "store")
	a := dockerArchive(t, imagetest.ManyOwners(t), "owners:1")
	b := dockerArchive(t, imagetest.Busybox(t, imagetest.WithCmd("true")), "other:1")
	const rounds = 8
	errs := make(chan error, 3)
	worker := func(f func(s *Store) error) {
		s, err := Open(root)
		for i := 0; err == nil && i < rounds; i++ {
			err = f(s)
		}
		errs <- err
	}
	go worker(func(s *Store) error { _, err := s.Load(context.Background(), a); return err })
	go worker(func(s *Store) error { _, err := s.Load(context.Background(), b); return err })
	go worker(func(s *Store) error {
		for _, ref := range []string{"owners:1", "other:1"} {
			if _, err := s.Remove(ref, RemoveOptions{}); err != nil && !errors.Is(err, ErrNotFound) {
				return err
			}
		}
		return nil
	})
	for range 3 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	s, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	checkConsistent(t, s)
}

// checkConsistent opens every layer of every image of s.
func checkConsistent(t *testing.T, s *Store) {
	t.Helper()
	imgs, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	for _, img := range imgs {
		for _, l := range img.Layers {
			ll, err := layer.OpenFiles(l.Tar, l.Index)
			if err != nil {
				t.Errorf("image %s: %v", img.ID, err)
				continue
			}
			ll.Close()
		}
	}
	for _, n := range layerFiles(t, s) {
		if strings.HasSuffix(n, ".tmp") {
			t.Errorf("temporary file left: %s", n)
		}
	}
}

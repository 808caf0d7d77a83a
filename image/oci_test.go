package image

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/nookrun/nook/image/imagetest"
)

// TestLoadMultiPlatformIndex loads an OCI layout whose entry is an index
// of two platforms: the host's image is taken, under the entry's name.
func TestLoadMultiPlatformIndex(t *testing.T) {
	host := imagetest.Busybox(t)
	other := imagetest.Busybox(t, imagetest.WithArchitecture("s390x"))
	idx := mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: other, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "s390x"}}},
		mutate.IndexAddendum{Add: host, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: runtime.GOARCH}}},
	)
	dir := filepath.Join(t.TempDir(), "layout")
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendIndex(idx, layout.WithAnnotations(map[string]string{annotationRefName: "example.com/multi:1"})); err != nil {
		t.Fatal(err)
	}
	s := openStore(t)
	imgs := mustLoad(t, s, dir)
	if len(imgs) != 1 || imgs[0].ID != configName(t, host) || !slices.Equal(imgs[0].Names, []string{"example.com/multi:1"}) {
		t.Errorf("loaded %+v, want the %s image named example.com/multi:1", imgs, runtime.GOARCH)
	}
}

// TestLoadDockerWithLayout loads what docker save writes since version
// 25: an OCI layout plus a manifest.json whose paths are blobs; the
// manifest.json's full names win over index.json's bare tag.
func TestLoadDockerWithLayout(t *testing.T) {
	img := imagetest.ManyOwners(t)
	dir := filepath.Join(t.TempDir(), "saved")
	if err := imagetest.WriteOCILayout(img, "latest", dir); err != nil {
		t.Fatal(err)
	}
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	entry := dockerEntry{Config: blobName(m.Config.Digest.String()), RepoTags: []string{"saved:25"}}
	for _, l := range m.Layers {
		entry.Layers = append(entry.Layers, blobName(l.Digest.String()))
	}
	data, _ := json.Marshal([]dockerEntry{entry})
	if err := os.WriteFile(filepath.Join(dir, "manifest.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	s := openStore(t)
	imgs := mustLoad(t, s, dir)
	if len(imgs) != 1 || !slices.Equal(imgs[0].Names, []string{"docker.io/library/saved:25"}) || len(imgs[0].Layers) != 2 {
		t.Errorf("loaded %+v", imgs)
	}
	// Without manifest.json the bare tag names nothing.
	if err := os.Remove(filepath.Join(dir, "manifest.json")); err != nil {
		t.Fatal(err)
	}
	s = openStore(t)
	imgs, err = s.Load(context.Background(), dir)
	if err != nil || len(imgs) != 1 || len(imgs[0].Names) != 0 {
		t.Errorf("loaded %+v, %v; want one image without names", imgs, err)
	}
}

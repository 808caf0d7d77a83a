package image

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/nookrun/nook/image/imagetest"
)

// loadImage stores img in s under ref through a docker-archive, as a
// user's nook load would.
func loadImage(t *testing.T, s *Store, ref string, opts ...imagetest.Option) Image {
	t.Helper()
	img := imagetest.ManyOwners(t, opts...)
	p := filepath.Join(t.TempDir(), "img.tar")
	if err := imagetest.WriteDockerArchive(img, ref, p); err != nil {
		t.Fatal(err)
	}
	imgs, err := s.Load(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	return imgs[0]
}

func TestPushThenPull(t *testing.T) {
	reg := imagetest.StartRegistry(t)
	s := openStore(t)
	loaded := loadImage(t, s, "owners:1")
	dest := reg.Host + "/test/owners:pushed"
	d1, err := s.Push(context.Background(), "owners:1", dest, anonymous())
	if err != nil {
		t.Fatal(err)
	}
	s2 := openStore(t)
	got, err := s2.Pull(context.Background(), dest, anonymous())
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != loaded.ID || got.ManifestDigest != d1 || len(got.Layers) != len(loaded.Layers) {
		t.Fatalf("pulled %s (manifest %s), pushed %s (manifest %s)", got.ID, got.ManifestDigest, loaded.ID, d1)
	}
	for i := range got.Layers {
		if got.Layers[i].DiffID != loaded.Layers[i].DiffID {
			t.Errorf("layer %d: %s, pushed %s", i, got.Layers[i].DiffID, loaded.Layers[i].DiffID)
		}
	}
	// Pushed again from the pulled store, as the image came: no layer
	// is sent twice and the manifest is the same, byte for byte.
	d2, err := s2.Push(context.Background(), dest, reg.Host+"/test/owners:again", anonymous())
	if err != nil {
		t.Fatal(err)
	}
	if d2 != d1 {
		t.Errorf("pushing the pulled image again gave manifest %s, want %s", d2, d1)
	}
	// Pushing by name without a destination goes to the name's registry.
	if _, err := s2.Push(context.Background(), dest, "", anonymous()); err != nil {
		t.Error(err)
	}
	// An ID needs a destination.
	if _, err := s2.Push(context.Background(), got.ID, "", anonymous()); !errors.Is(err, ErrInvalidReference) {
		t.Errorf("push by ID without destination: %v", err)
	}
}

func TestPushErrors(t *testing.T) {
	reg := imagetest.StartRegistry(t, imagetest.WithBasicAuth("u", "p"))
	s := openStore(t)
	loadImage(t, s, "owners:1")
	if _, err := s.Push(context.Background(), "owners:1", reg.Host+"/x:1", anonymous()); !errors.Is(err, ErrUnauthorized) {
		t.Errorf("push without credentials: %v, want ErrUnauthorized", err)
	}
	if _, err := s.Push(context.Background(), "nothere:1", reg.Host+"/x:1", anonymous()); !errors.Is(err, ErrNotFound) {
		t.Errorf("push of a missing image: %v, want ErrNotFound", err)
	}
	auth := filepath.Join(t.TempDir(), "auth.json")
	if err := SaveCredentials(auth, reg.Host, "u", "p"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Push(context.Background(), "owners:1", reg.Host+"/x:1", WithKeychain(FileKeychain(auth))); err != nil {
		t.Errorf("push with credentials: %v", err)
	}
	if _, err := os.Stat(auth); err != nil {
		t.Fatal(err)
	}
}

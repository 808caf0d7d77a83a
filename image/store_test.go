package image

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nookrun/nook/image/imagetest"
)

func TestDefaultRoot(t *testing.T) {
	t.Setenv("XDG_DATA_HOME", "/x/data")
	t.Setenv("HOME", "/home/u")
	if r, err := DefaultRoot(); err != nil || r != "/x/data/nook" {
		t.Errorf("DefaultRoot = %q, %v", r, err)
	}
	t.Setenv("XDG_DATA_HOME", "relative")
	if r, err := DefaultRoot(); err != nil || r != "/home/u/.local/share/nook" {
		t.Errorf("DefaultRoot with a relative XDG_DATA_HOME = %q, %v", r, err)
	}
	t.Setenv("XDG_DATA_HOME", "")
	if r, err := DefaultRoot(); err != nil || r != "/home/u/.local/share/nook" {
		t.Errorf("DefaultRoot = %q, %v", r, err)
	}
}

func TestOpenMakesPrivateDirs(t *testing.T) {
	s := openStore(t)
	for _, d := range []string{"", "blobs", blobsDir, layersDir} {
		fi, err := os.Stat(filepath.Join(s.Root(), d))
		if err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o700 {
			t.Errorf("%s: %v, %v; want a 0700 directory", d, fi.Mode(), err)
		}
	}
	if !filepath.IsAbs(s.Root()) {
		t.Errorf("Root = %q, not absolute", s.Root())
	}
}

// TestCorruptStore damages a blob and images.json: lookups say so, and
// garbage collection deletes nothing it cannot prove unused.
func TestCorruptStore(t *testing.T) {
	s := openStore(t)
	img := mustLoad(t, s, dockerArchive(t, imagetest.Busybox(t), "a:1"))[0]
	mustLoad(t, s, dockerArchive(t, imagetest.ManyOwners(t), "b:1"))
	blob := s.blobPath(strings.TrimPrefix(img.ID, "sha256:"))
	data, err := os.ReadFile(blob)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(blob, append(data, ' '), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Lookup("a:1"); !errors.Is(err, ErrCorrupt) {
		t.Errorf("Lookup with a damaged config = %v, want ErrCorrupt", err)
	}
	if _, err := s.Remove("b:1", RemoveOptions{}); !errors.Is(err, ErrCorrupt) {
		t.Errorf("Remove with another image's config damaged = %v, want ErrCorrupt from the collection", err)
	}
	if files := layerFiles(t, s); len(files) != 6 {
		t.Errorf("layers = %q: collection deleted some", files)
	}
	if err := os.WriteFile(filepath.Join(s.Root(), indexFile), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.List(); !errors.Is(err, ErrCorrupt) {
		t.Errorf("List with a damaged images.json = %v, want ErrCorrupt", err)
	}
}

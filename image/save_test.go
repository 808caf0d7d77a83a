package image

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
)

func TestSaveThenLoad(t *testing.T) {
	s := openStore(t)
	a := loadImage(t, s, "owners:1")
	if err := s.Tag("owners:1", "example.com/other:2"); err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{FormatDockerArchive, FormatOCIArchive, FormatOCIDir} {
		t.Run(format, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			var err error
			if format == FormatOCIDir {
				err = s.SaveDir(context.Background(), out, []string{"owners:1", "example.com/other:2"})
			} else {
				var buf bytes.Buffer
				err = s.Save(context.Background(), &buf, []string{"owners:1", "example.com/other:2"}, format)
				if err == nil {
					err = os.WriteFile(out, buf.Bytes(), 0o644)
				}
			}
			if err != nil {
				t.Fatal(err)
			}
			s2 := openStore(t)
			imgs, err := s2.Load(context.Background(), out)
			if err != nil {
				t.Fatal(err)
			}
			if len(imgs) != 1 || imgs[0].ID != a.ID {
				t.Fatalf("loaded %+v, want one image %s", imgs, a.ID)
			}
			for _, n := range []string{"docker.io/library/owners:1", "example.com/other:2"} {
				if img, err := s2.Lookup(n); err != nil || img.ID != a.ID {
					t.Errorf("%s after the round trip: %v", n, err)
				}
			}
		})
	}
	// An image saved by ID has no name.
	var buf bytes.Buffer
	if err := s.Save(context.Background(), &buf, []string{a.ID}, ""); err != nil {
		t.Fatal(err)
	}
	s3 := openStore(t)
	imgs, err := s3.LoadReader(context.Background(), &buf)
	if err != nil || len(imgs) != 1 || len(imgs[0].Names) != 0 {
		t.Fatalf("saved by ID, loaded %+v, %v", imgs, err)
	}
}

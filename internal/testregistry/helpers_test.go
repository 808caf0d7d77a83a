package testregistry

import (
	"archive/tar"
	"errors"
	"io"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// drain reads r to the end.
func drain(r io.Reader) error {
	_, err := io.Copy(io.Discard, r)
	return err
}

// layerFiles lists a layer's regular files with their sizes, reading the
// uncompressed stream through (which checks the DiffID).
func layerFiles(t *testing.T, l v1.Layer) map[string]int64 {
	t.Helper()
	rc, err := l.Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	files := map[string]int64{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			n, err := io.Copy(io.Discard, tr)
			if err != nil {
				t.Fatal(err)
			}
			files[h.Name] = n
		}
	}
	if err := drain(rc); err != nil {
		t.Fatal(err)
	}
	return files
}

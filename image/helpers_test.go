package image

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/nookrun/nook/image/imagetest"
)

func openStore(t *testing.T) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "store"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// snapshot describes every file under root: its size and, for files up to
// 1 MiB, its content hash; layer tars by size and inode, so that a
// rewrite shows.
func snapshot(t *testing.T, root string) map[string]string {
	t.Helper()
	m := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if d.IsDir() {
			m[rel+"/"] = "dir"
			return nil
		}
		fi, err := os.Stat(p)
		if err != nil {
			return err
		}
		desc := fi.Mode().String() + " "
		if fi.Size() <= 1<<20 {
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			sum := sha256.Sum256(data)
			desc += hex.EncodeToString(sum[:])
		}
		m[rel] = desc + " " + itoa(fi.Size()) + " ino " + itoa(int64(inode(fi)))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func diffSnapshots(before, after map[string]string) []string {
	var d []string
	for k, v := range before {
		if w, ok := after[k]; !ok {
			d = append(d, "gone: "+k)
		} else if v != w {
			d = append(d, "changed: "+k)
		}
	}
	for k := range after {
		if _, ok := before[k]; !ok {
			d = append(d, "new: "+k)
		}
	}
	sort.Strings(d)
	return d
}

// layerFiles lists the names in the store's layers directory.
func layerFiles(t *testing.T, s *Store) []string {
	t.Helper()
	entries, err := os.ReadDir(s.layers())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// entry is a member of a tar built by a test.
type entry struct {
	name     string
	typ      byte
	body     []byte
	linkname string
}

func readTar(t *testing.T, path string) []entry {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	var out []entry
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, entry{name: h.Name, typ: h.Typeflag, body: body, linkname: h.Linkname})
	}
}

func writeTar(t *testing.T, path string, entries []entry) {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Typeflag: e.typ, Mode: 0o644, Size: int64(len(e.body)), Linkname: e.linkname}
		if e.typ != tar.TypeReg {
			h.Size = 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(e.body); err != nil && h.Size > 0 {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// find returns the member named name.
func find(t *testing.T, es []entry, name string) *entry {
	t.Helper()
	for i := range es {
		if es[i].name == name {
			return &es[i]
		}
	}
	t.Fatalf("no member %s", name)
	return nil
}

func mustLoad(t *testing.T, s *Store, path string) []Image {
	t.Helper()
	imgs, err := s.Load(context.Background(), path)
	if err != nil {
		t.Fatalf("load %s: %v", path, err)
	}
	return imgs
}

func configName(t *testing.T, img v1.Image) string {
	t.Helper()
	h, err := img.ConfigName()
	if err != nil {
		t.Fatal(err)
	}
	return h.String()
}

func dockerArchive(t *testing.T, img v1.Image, refs ...string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "docker.tar")
	first := ""
	if len(refs) > 0 {
		first, refs = refs[0], refs[1:]
	}
	if err := imagetest.WriteDockerArchive(img, first, p, refs...); err != nil {
		t.Fatal(err)
	}
	return p
}

func jsonOf(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}

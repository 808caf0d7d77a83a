package image

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nookrun/nook/image/imagetest"
)

// TestHostileArchives loads broken and hostile archives, each made from a
// good one: each is refused with the right error and leaves the store
// exactly as it was.
func TestHostileArchives(t *testing.T) {
	owners := imagetest.ManyOwners(t)
	dir := t.TempDir()
	goodDocker := filepath.Join(dir, "docker.tar")
	goodOCI := filepath.Join(dir, "oci.tar")
	if err := imagetest.WriteDockerArchive(owners, "owners:1", goodDocker); err != nil {
		t.Fatal(err)
	}
	if err := imagetest.WriteOCIArchive(owners, "owners:1", goodOCI); err != nil {
		t.Fatal(err)
	}
	docker := readTar(t, goodDocker)
	oci := readTar(t, goodOCI)
	var dm []dockerEntry
	if err := json.Unmarshal(find(t, docker, "manifest.json").body, &dm); err != nil {
		t.Fatal(err)
	}
	ociManifest := ociManifestOf(t, oci)

	for _, tc := range []struct {
		name   string
		base   []entry
		mutate func(es []entry) []entry
		want   error
	}{
		{"config path with ..", docker, setDockerManifest(t, func(m []dockerEntry) { m[0].Config = "../" + m[0].Config }), ErrInvalidArchive},
		{"absolute layer path", docker, setDockerManifest(t, func(m []dockerEntry) { m[0].Layers[1] = "/etc/passwd" }), ErrInvalidArchive},
		{"missing layer", docker, func(es []entry) []entry { return drop(es, dm[0].Layers[1]) }, ErrInvalidArchive},
		{"config altered", docker, func(es []entry) []entry {
			c := find(t, es, dm[0].Config)
			c.body = bytes.Replace(c.body, []byte(`"sh"`), []byte(`"id"`), 1)
			return es
		}, ErrDigestMismatch},
		{"layer is not its DiffID", docker, func(es []entry) []entry {
			// The first layer is fine (and new to the store); the second
			// carries the first's bytes.
			find(t, es, dm[0].Layers[1]).body = find(t, es, dm[0].Layers[0]).body
			return es
		}, ErrDigestMismatch},
		{"more layers than DiffIDs", docker, setDockerManifest(t, func(m []dockerEntry) { m[0].Layers = append(m[0].Layers, m[0].Layers[0]) }), ErrInvalidArchive},
		{"layer is a symlink", docker, func(es []entry) []entry {
			l := find(t, es, dm[0].Layers[1])
			l.typ, l.body, l.linkname = tar.TypeSymlink, nil, dm[0].Layers[0]
			return es
		}, ErrInvalidArchive},
		{"layer is a hard link", docker, func(es []entry) []entry {
			l := find(t, es, dm[0].Layers[1])
			l.typ, l.body, l.linkname = tar.TypeLink, nil, dm[0].Layers[0]
			return es
		}, ErrInvalidArchive},
		{"huge manifest.json", docker, func(es []entry) []entry {
			m := find(t, es, "manifest.json")
			m.body = append(m.body, bytes.Repeat([]byte(" "), maxJSON)...)
			return es
		}, ErrInvalidArchive},
		{"two members of one name", docker, func(es []entry) []entry {
			return append(es, *find(t, es, "manifest.json"))
		}, ErrInvalidArchive},
		{"member outside the archive", docker, func(es []entry) []entry {
			return append(es, entry{name: "../escape", typ: tar.TypeReg, body: []byte("x")})
		}, ErrInvalidArchive},
		{"manifest.json not JSON", docker, func(es []entry) []entry {
			find(t, es, "manifest.json").body = []byte("{not json")
			return es
		}, ErrInvalidArchive},
		{"OCI config altered", oci, func(es []entry) []entry {
			c := find(t, es, blobName(ociManifest.Config.Digest.String()))
			c.body = bytes.Replace(c.body, []byte(`"sh"`), []byte(`"id"`), 1)
			return es
		}, ErrDigestMismatch},
		{"OCI layer blob altered", oci, func(es []entry) []entry {
			// Change the gzip header's time: the same tar inside, but the
			// blob no longer hashes to its digest.
			l := find(t, es, blobName(ociManifest.Layers[1].Digest.String()))
			l.body = append([]byte(nil), l.body...)
			l.body[4] ^= 0xff
			return es
		}, ErrDigestMismatch},
		{"OCI layer size differs", oci, func(es []entry) []entry {
			l := find(t, es, blobName(ociManifest.Layers[1].Digest.String()))
			l.body = append(append([]byte(nil), l.body...), 0)
			return es
		}, ErrInvalidArchive},
		{"OCI missing manifest", oci, func(es []entry) []entry {
			return drop(es, blobName(ociDigestOfIndex(t, es)))
		}, ErrInvalidArchive},
		{"OCI missing layer", oci, func(es []entry) []entry {
			return drop(es, blobName(ociManifest.Layers[0].Digest.String()))
		}, ErrInvalidArchive},
		{"OCI index not JSON", oci, func(es []entry) []entry {
			find(t, es, "index.json").body = []byte("[")
			return es
		}, ErrInvalidArchive},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := openStore(t)
			mustLoad(t, s, dockerArchive(t, imagetest.Busybox(t), "busybox:latest"))
			before := snapshot(t, s.Root())
			es := tc.mutate(cloneEntries(tc.base))
			p := filepath.Join(t.TempDir(), "bad.tar")
			writeTar(t, p, es)
			imgs, err := s.Load(context.Background(), p)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Load = %v, %v; want an error matching %v", imgs, err, tc.want)
			}
			t.Logf("refused: %v", err)
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error has several lines: %q", err)
			}
			if d := diffSnapshots(before, snapshot(t, s.Root())); len(d) > 0 {
				t.Errorf("the refused archive changed the store: %q", d)
			}
		})
	}
}

// TestGoodArchivesLoad checks that the untouched archives the hostile ones
// are made from, rewritten by the test's tar writer, load.
func TestGoodArchivesLoad(t *testing.T) {
	owners := imagetest.ManyOwners(t)
	dir := t.TempDir()
	for _, write := range []func(string) error{
		func(p string) error { return imagetest.WriteDockerArchive(owners, "owners:1", p) },
		func(p string) error { return imagetest.WriteOCIArchive(owners, "owners:1", p) },
	} {
		p := filepath.Join(dir, "a.tar")
		if err := write(p); err != nil {
			t.Fatal(err)
		}
		writeTar(t, p, readTar(t, p))
		s := openStore(t)
		if imgs := mustLoad(t, s, p); len(imgs) != 1 || len(imgs[0].Layers) != 2 {
			t.Errorf("loaded %+v", imgs)
		}
	}
}

package image

import (
	"archive/tar"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Formats Save writes.
const (
	// FormatDockerArchive is docker save's tar: manifest.json, the
	// config as <id>.json and each layer as <diffid>.tar.
	FormatDockerArchive = "docker-archive"
	// FormatOCIArchive is a tar of an OCI image layout.
	FormatOCIArchive = "oci-archive"
	// FormatOCIDir is an OCI image layout directory.
	FormatOCIDir = "oci-dir"
)

// Save writes the images refs name to w as an archive of format
// (FormatDockerArchive or FormatOCIArchive). An image named by name is
// saved under that name; one named by ID without a name, as docker save
// does. Layers are written as stored, uncompressed (an OCI archive gets a
// manifest of its own for them), each once however many images share it.
// nook load, docker load and podman load read the result.
func (s *Store) Save(ctx context.Context, w io.Writer, refs []string, format string) error {
	var sink archiveSink
	switch format {
	case FormatDockerArchive, "":
		format = FormatDockerArchive
		sink = &tarSink{tw: tar.NewWriter(w)}
	case FormatOCIArchive:
		sink = &tarSink{tw: tar.NewWriter(w)}
	default:
		return fmt.Errorf("save: format %q: want %s or %s (or %s with a directory)", format, FormatDockerArchive, FormatOCIArchive, FormatOCIDir)
	}
	if err := s.save(ctx, sink, refs, format); err != nil {
		return fmt.Errorf("save: %w", err)
	}
	return nil
}

// SaveDir writes the images refs name as an OCI image layout in dir,
// which must not exist or be empty.
func (s *Store) SaveDir(ctx context.Context, dir string, refs []string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("save: %w", err)
	}
	if entries, err := os.ReadDir(dir); err != nil || len(entries) > 0 {
		return fmt.Errorf("save: %s is not an empty directory", dir)
	}
	if err := s.save(ctx, &dirSink{dir: dir}, refs, FormatOCIDir); err != nil {
		return fmt.Errorf("save: %w", err)
	}
	return nil
}

// archiveSink receives the files of an archive.
type archiveSink interface {
	file(name string, size int64, r io.Reader) error
	close() error
}

type tarSink struct{ tw *tar.Writer }

func (t *tarSink) file(name string, size int64, r io.Reader) error {
	h := &tar.Header{Name: name, Mode: 0o644, Size: size, Typeflag: tar.TypeReg, Format: tar.FormatPAX}
	if err := t.tw.WriteHeader(h); err != nil {
		return err
	}
	n, err := io.Copy(t.tw, r)
	if err == nil && n != size {
		err = fmt.Errorf("%s: wrote %d of %d bytes", name, n, size)
	}
	return err
}

func (t *tarSink) close() error { return t.tw.Close() }

type dirSink struct{ dir string }

func (d *dirSink) file(name string, size int64, r io.Reader) error {
	p := filepath.Join(d.dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	f, err := os.Create(p)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func (d *dirSink) close() error { return nil }

// saved is one image to save: the image and the name it is saved under.
type saved struct {
	img    Image
	config []byte
	name   string
}

func (s *Store) save(ctx context.Context, sink archiveSink, refs []string, format string) error {
	if len(refs) == 0 {
		return fmt.Errorf("no image to save: %w", ErrInvalidReference)
	}
	release, err := s.Hold()
	if err != nil {
		return err
	}
	defer release()
	var imgs []saved
	ix, unlock, err := s.lockedIndex(false)
	if err != nil {
		return err
	}
	for _, ref := range refs {
		r, byName, err := ix.resolve(ref)
		if strings.Contains(byName, "@") {
			byName = "" // a digest is no tag an archive can carry
		}
		if err != nil {
			unlock()
			return err
		}
		img, err := s.imageOf(r)
		if err == nil {
			var cfg []byte
			if cfg, err = s.getBlob(r.ID); err == nil {
				imgs = append(imgs, saved{img: img, config: cfg, name: byName})
			}
		}
		if err != nil {
			unlock()
			return err
		}
	}
	unlock()
	if format == FormatDockerArchive {
		err = s.saveDocker(ctx, sink, imgs)
	} else {
		err = s.saveOCI(ctx, sink, imgs)
	}
	if err != nil {
		return err
	}
	return sink.close()
}

// copyLayer writes a stored layer tar into the archive as name.
func copyLayer(ctx context.Context, sink archiveSink, l Layer, name string) error {
	f, err := os.Open(l.Tar)
	if err != nil {
		return fmt.Errorf("layer %s: %w", l.DiffID, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("layer %s: %w", l.DiffID, err)
	}
	if err := sink.file(name, fi.Size(), ctxReader{ctx, f}); err != nil {
		return fmt.Errorf("write layer %s: %w", l.DiffID, err)
	}
	return nil
}

func (s *Store) saveDocker(ctx context.Context, sink archiveSink, imgs []saved) error {
	var m []struct {
		Config   string
		RepoTags []string
		Layers   []string
	}
	written := map[string]bool{}
	for _, sv := range imgs {
		cfgName := strings.TrimPrefix(sv.img.ID, "sha256:") + ".json"
		entry := struct {
			Config   string
			RepoTags []string
			Layers   []string
		}{Config: cfgName, RepoTags: []string{}, Layers: []string{}}
		if sv.name != "" {
			entry.RepoTags = append(entry.RepoTags, sv.name)
		}
		if !written[cfgName] {
			if err := sink.file(cfgName, int64(len(sv.config)), strings.NewReader(string(sv.config))); err != nil {
				return err
			}
			written[cfgName] = true
		}
		for _, l := range sv.img.Layers {
			name := strings.TrimPrefix(l.DiffID, "sha256:") + ".tar"
			if !written[name] {
				if err := copyLayer(ctx, sink, l, name); err != nil {
					return err
				}
				written[name] = true
			}
			entry.Layers = append(entry.Layers, name)
		}
		m = append(m, entry)
	}
	data, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return sink.file(dockerManifest, int64(len(data)), strings.NewReader(string(data)))
}

func (s *Store) saveOCI(ctx context.Context, sink archiveSink, imgs []saved) error {
	written := map[string]bool{}
	blob := func(data []byte) error {
		h, _ := digestHex(digestOf(data))
		if written[h] {
			return nil
		}
		written[h] = true
		return sink.file("blobs/sha256/"+h, int64(len(data)), strings.NewReader(string(data)))
	}
	layout := []byte(`{"imageLayoutVersion":"1.0.0"}`)
	if err := sink.file(ociLayoutFile, int64(len(layout)), strings.NewReader(string(layout))); err != nil {
		return err
	}
	idx := v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex, Manifests: []v1.Descriptor{}}
	for _, sv := range imgs {
		if err := blob(sv.config); err != nil {
			return err
		}
		cfgHash, err := v1.NewHash(sv.img.ID)
		if err != nil {
			return err
		}
		m := v1.Manifest{
			SchemaVersion: 2,
			MediaType:     types.OCIManifestSchema1,
			Config:        v1.Descriptor{MediaType: types.OCIConfigJSON, Size: int64(len(sv.config)), Digest: cfgHash},
			Layers:        []v1.Descriptor{},
		}
		for _, l := range sv.img.Layers {
			fi, err := os.Stat(l.Tar)
			if err != nil {
				return fmt.Errorf("layer %s: %w", l.DiffID, err)
			}
			h, _ := v1.NewHash(l.DiffID)
			m.Layers = append(m.Layers, v1.Descriptor{MediaType: types.OCIUncompressedLayer, Size: fi.Size(), Digest: h})
			if !written[h.Hex] {
				if err := copyLayer(ctx, sink, l, "blobs/sha256/"+h.Hex); err != nil {
					return err
				}
				written[h.Hex] = true
			}
		}
		data, err := json.Marshal(m)
		if err != nil {
			return err
		}
		if err := blob(data); err != nil {
			return err
		}
		d := v1.Descriptor{MediaType: types.OCIManifestSchema1, Size: int64(len(data))}
		if d.Digest, err = v1.NewHash(digestOf(data)); err != nil {
			return err
		}
		if sv.name != "" {
			d.Annotations = map[string]string{annotationContainerdName: sv.name, annotationRefName: sv.name}
		}
		idx.Manifests = append(idx.Manifests, d)
	}
	data, err := json.Marshal(idx)
	if err != nil {
		return err
	}
	return sink.file(ociIndexFile, int64(len(data)), strings.NewReader(string(data)))
}

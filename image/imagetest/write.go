package imagetest

import (
	"archive/tar"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// Annotation keys naming an image in an OCI index.
const (
	AnnotationRefName        = "org.opencontainers.image.ref.name"
	AnnotationContainerdName = "io.containerd.image.name"
)

// WriteDockerArchive writes img as a docker-archive tar (the format of
// docker save) at path, tagged ref and moreRefs (each a tag such as
// "busybox:latest"); with ref "" the image has no tag.
func WriteDockerArchive(img v1.Image, ref, path string, moreRefs ...string) error {
	refs, err := parseRefs(img, ref, moreRefs)
	if err != nil {
		return fmt.Errorf("write docker archive %s: %w", path, err)
	}
	if err := tarball.MultiRefWriteToFile(path, refs); err != nil {
		return fmt.Errorf("write docker archive %s: %w", path, err)
	}
	return nil
}

// WriteDockerArchiveImages writes several images into one docker-archive
// tar, each under the tags it is mapped from.
func WriteDockerArchiveImages(path string, tagged map[string]v1.Image) error {
	refs := map[name.Reference]v1.Image{}
	for ref, img := range tagged {
		tag, err := name.NewTag(ref)
		if err != nil {
			return fmt.Errorf("write docker archive %s: parse tag %q: %w", path, ref, err)
		}
		refs[tag] = img
	}
	if err := tarball.MultiRefWriteToFile(path, refs); err != nil {
		return fmt.Errorf("write docker archive %s: %w", path, err)
	}
	return nil
}

// parseRefs maps each tag to img; with none, img is entered under its own
// digest, which docker-archive writes without a tag.
func parseRefs(img v1.Image, ref string, more []string) (map[name.Reference]v1.Image, error) {
	refs := map[name.Reference]v1.Image{}
	for _, r := range append([]string{ref}, more...) {
		if r == "" {
			continue
		}
		tag, err := name.NewTag(r)
		if err != nil {
			return nil, fmt.Errorf("parse tag %q: %w", r, err)
		}
		refs[tag] = img
	}
	if len(refs) == 0 {
		d, err := img.Digest()
		if err != nil {
			return nil, fmt.Errorf("image digest: %w", err)
		}
		dig, err := name.NewDigest("untagged@" + d.String())
		if err != nil {
			return nil, err
		}
		refs[dig] = img
	}
	return refs, nil
}

// WriteOCILayout writes img into the OCI image layout directory dir
// (created, or added to when it holds a layout already), with one index
// entry per ref annotated with the ref as org.opencontainers.image.ref.name
// (the way podman and skopeo name images); ref "" gives one entry without
// a name.
func WriteOCILayout(img v1.Image, ref, dir string, moreRefs ...string) error {
	if err := writeLayout(img, dir, append([]string{ref}, moreRefs...)); err != nil {
		return fmt.Errorf("write OCI layout %s: %w", dir, err)
	}
	return nil
}

func writeLayout(img v1.Image, dir string, refs []string) error {
	p, err := layout.FromPath(dir)
	if err != nil {
		if p, err = layout.Write(dir, empty.Index); err != nil {
			return err
		}
	}
	named := false
	for _, ref := range refs {
		if ref == "" {
			continue
		}
		named = true
		if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{AnnotationRefName: ref})); err != nil {
			return err
		}
	}
	if !named {
		return p.AppendImage(img)
	}
	return nil
}

// WriteOCIArchive writes img as an OCI archive: a tar of an OCI image
// layout (the format of podman save --format oci-archive), named as
// WriteOCILayout names it.
func WriteOCIArchive(img v1.Image, ref, path string, moreRefs ...string) error {
	tmp, err := os.MkdirTemp("", "imagetest-layout-*")
	if err != nil {
		return fmt.Errorf("write OCI archive %s: %w", path, err)
	}
	defer os.RemoveAll(tmp)
	if err := writeLayout(img, tmp, append([]string{ref}, moreRefs...)); err != nil {
		return fmt.Errorf("write OCI archive %s: %w", path, err)
	}
	if err := TarDir(tmp, path); err != nil {
		return fmt.Errorf("write OCI archive %s: %w", path, err)
	}
	return nil
}

// TarDir writes the tree under dir as a tar at path, names relative to dir,
// in sorted order, owned by 0:0 with fixed times.
func TarDir(dir, path string) error {
	var names []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != dir {
			names = append(names, p)
		}
		return nil
	})
	if err != nil {
		return err
	}
	sort.Strings(names)
	out, err := os.Create(path)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(out)
	for _, p := range names {
		if err := addToTar(tw, dir, p); err != nil {
			out.Close()
			return err
		}
	}
	if err := tw.Close(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func addToTar(tw *tar.Writer, dir, p string) error {
	fi, err := os.Lstat(p)
	if err != nil {
		return err
	}
	rel, err := filepath.Rel(dir, p)
	if err != nil {
		return err
	}
	h := &tar.Header{Name: filepath.ToSlash(rel), ModTime: Created, Mode: 0o644, Typeflag: tar.TypeReg, Size: fi.Size()}
	if fi.IsDir() {
		h = &tar.Header{Name: filepath.ToSlash(rel) + "/", ModTime: Created, Mode: 0o755, Typeflag: tar.TypeDir}
	} else if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s is neither a file nor a directory", p)
	}
	if err := tw.WriteHeader(h); err != nil {
		return err
	}
	if fi.IsDir() {
		return nil
	}
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(tw, f)
	return err
}

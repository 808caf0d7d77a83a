package imagetest

import (
	"fmt"
	"math/rand/v2"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// LayerFile is the path of the file that layer i (from 1) of a Layered
// image adds.
func LayerFile(i int) string { return fmt.Sprintf("/layers/%d", i) }

// Layered is NewLayered for a test, skipping or failing as Busybox does.
func Layered(t testing.TB, n int, size int64, opts ...Option) v1.Image {
	t.Helper()
	img, err := NewLayered(n, size, opts...)
	check(t, err)
	return img
}

// NewLayered builds Busybox plus n layers, layer i adding LayerFile(i):
// size bytes that compress poorly (seeded by i, so the image is
// reproducible and its layers differ).
func NewLayered(n int, size int64, opts ...Option) (v1.Image, error) {
	o, err := applyOptions(opts)
	if err != nil {
		return nil, err
	}
	base, err := busyboxLayer(o)
	if err != nil {
		return nil, err
	}
	tars := [][]byte{base}
	for i := 1; i <= n; i++ {
		b := newTarBuilder(o.created)
		data := make([]byte, size)
		r := rand.New(rand.NewPCG(uint64(i), uint64(size)))
		for j := range data {
			data[j] = byte(r.Uint32())
		}
		b.file(LayerFile(i), 0o644, 0, 0, data)
		t, err := b.bytes()
		if err != nil {
			return nil, err
		}
		tars = append(tars, t)
	}
	return assemble(o, tars...)
}

// Index is NewIndex for a test, skipping or failing as Busybox does.
func Index(t testing.TB, archs ...string) v1.ImageIndex {
	t.Helper()
	idx, err := NewIndex(archs...)
	check(t, err)
	return idx
}

// NewIndex builds an OCI image index of one Busybox image per
// architecture ("amd64", "arm64"...; linux each), each labelled
// "arch"=its architecture so tests can tell them apart (their busybox
// binary is the host's).
func NewIndex(archs ...string) (v1.ImageIndex, error) {
	var idx v1.ImageIndex = mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for _, a := range archs {
		img, err := NewBusybox(WithArchitecture(a), WithLabel("arch", a))
		if err != nil {
			return nil, err
		}
		p := &v1.Platform{OS: "linux", Architecture: a}
		if a == "arm64" {
			p.Variant = "v8"
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: p}})
	}
	return idx, nil
}

package testregistry

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/nookrun/nook/image/imagetest"
)

// RandomImage is imagetest's busybox image with a generated layer on top
// for each spec, in order, their files written into dir as layer-N.tar.gz.
// It runs: its command is busybox's sh. The error wraps
// imagetest.ErrNoBusybox when the host has no static busybox.
func RandomImage(dir string, specs ...LayerSpec) (v1.Image, error) {
	base, err := imagetest.NewBusybox()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("make layer directory: %w", err)
	}
	layers := make([]v1.Layer, len(specs))
	for i, s := range specs {
		l, err := WriteLayer(filepath.Join(dir, "layer-"+strconv.Itoa(i+1)+".tar.gz"), s)
		if err != nil {
			return nil, err
		}
		layers[i] = l
	}
	img, err := mutate.AppendLayers(base, layers...)
	if err != nil {
		return nil, fmt.Errorf("add generated layers to the busybox image: %w", err)
	}
	return img, nil
}

package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/sys/unix"

	"github.com/nookrun/nook/internal/testregistry"
)

// pullRepoTag names the pulled image in the registry. The tag is the
// image's version: change it whenever pullLayers changes, so that a
// registry kept in the cache from an older run is not pulled instead.
const pullRepoTag = "bench/pull:v1"

// pullLayers are the generated layers on top of imagetest's busybox (one
// layer, about 2 MB): four of incompressible random bytes in a few large
// files, and one of many small text files (which gzip halves, so the
// puller inflates something, and which an unpacking puller has to create
// one by one). Six layers, about 200 MB.
var pullLayers = []testregistry.LayerSpec{
	{Dir: "data/a", Files: 7, FileSize: 6 << 20, Seed: 1},
	{Dir: "data/b", Files: 42, FileSize: 1 << 20, Seed: 2},
	{Dir: "data/c", Files: 3, FileSize: 14 << 20, Seed: 3},
	{Dir: "data/d", Files: 168, FileSize: 256 << 10, Seed: 4},
	{Dir: "data/small", Files: 12_000, FileSize: 2 << 10, Text: true, Seed: 5},
}

// pullRegistry runs docker-registry on its storage kept in the benchmark
// cache ($XDG_CACHE_HOME/nook-bench/v1/pull-registry), so that the image is
// generated and pushed once, not every run; a lock file keeps two
// benchmark runs from sharing it at once.
type pullRegistry struct {
	reg  *testregistry.Registry
	lock *os.File
	ref  string // the image's full reference
	// layers is how many layers the image has.
	layers int
	// about describes the image for the report.
	about string
}

func startPullRegistry(ctx context.Context) (*pullRegistry, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		return nil, fmt.Errorf("find cache directory: %w", err)
	}
	cache := filepath.Join(base, "nook-bench", "v1")
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return nil, fmt.Errorf("create cache %s: %w", cache, err)
	}
	lock, err := os.OpenFile(filepath.Join(cache, "pull-registry.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open pull registry lock: %w", err)
	}
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX); err != nil {
		lock.Close()
		return nil, fmt.Errorf("lock pull registry: %w", err)
	}
	reg, err := testregistry.Start(ctx, filepath.Join(cache, "pull-registry"))
	if err != nil {
		lock.Close()
		return nil, err
	}
	pr := &pullRegistry{reg: reg, lock: lock, ref: reg.Ref(pullRepoTag)}
	if err := pr.ensureImage(ctx, cache); err != nil {
		return pr, err
	}
	return pr, nil
}

// ensureImage pushes the image unless the registry has it from an
// earlier run, then describes it.
func (pr *pullRegistry) ensureImage(ctx context.Context, cache string) error {
	has, err := pr.reg.Has(ctx, pullRepoTag)
	if err != nil {
		return err
	}
	if !has {
		progress("generating and pushing the pull image (once; kept in the cache)")
		dir := filepath.Join(cache, "pull-layers")
		defer os.RemoveAll(dir) // the registry keeps its own copy
		img, err := testregistry.RandomImage(dir, pullLayers...)
		if err != nil {
			return fmt.Errorf("generate the pull image: %w", err)
		}
		if err := pr.reg.Push(ctx, pullRepoTag, img); err != nil {
			return err
		}
	}
	img, err := pr.reg.Image(ctx, pullRepoTag)
	if err != nil {
		return err
	}
	pr.about, pr.layers, err = describeImage(img)
	return err
}

// describeImage says what img holds and how big it is, packed and
// unpacked, and counts its layers.
func describeImage(img v1.Image) (string, int, error) {
	layers, err := img.Layers()
	if err != nil {
		return "", 0, fmt.Errorf("read the pull image's layers: %w", err)
	}
	var packed int64
	for _, l := range layers {
		n, err := l.Size()
		if err != nil {
			return "", 0, fmt.Errorf("read the pull image's layer sizes: %w", err)
		}
		packed += n
	}
	var content int64
	var parts []string
	for _, s := range pullLayers {
		content += s.Size()
		kind := "random bytes"
		if s.Text {
			kind = "hex text"
		}
		parts = append(parts, fmt.Sprintf("%d × %s of %s", s.Files, mib(s.FileSize), kind))
	}
	return fmt.Sprintf("%d layers, %.0f MB of gzip layers: imagetest busybox, then one layer each of %s (%.0f MB of files)",
		len(layers), float64(packed)/1e6, strings.Join(parts, ", "), float64(content)/1e6), len(layers), nil
}

// mib prints a size in MiB, or KiB below one MiB.
func mib(n int64) string {
	if n < 1<<20 {
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d MiB", n>>20)
}

func (pr *pullRegistry) close() error {
	var errs []error
	if pr.reg != nil {
		errs = append(errs, pr.reg.Stop())
	}
	errs = append(errs, pr.lock.Close())
	return errors.Join(errs...)
}

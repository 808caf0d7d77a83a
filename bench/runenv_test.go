package bench

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/nookrun/nook/image/imagetest"
)

// runImage is the image every BenchmarkRun peer starts, or whose layer it
// uses as its root: imagetest's busybox (the host's static busybox with a
// symlink per applet, /etc/passwd and /etc/group; one layer).
const runImage = "localhost/busybox:latest"

// runEnv is what BenchmarkRun's peers share. Everything lives in one new
// temporary directory, removed at the end; the stores in it are private,
// so the user's own nook and podman stores are never touched.
type runEnv struct {
	host    *hostClient
	dir     string
	archive string // the image as a docker-archive tar: nook load, podman load
	layer   string // its only layer, uncompressed
	rootfs  string // the layer unpacked by the user on the host: bwrap's root
	nookBin string // cmd/nook built from this checkout
	gnuTime string // /usr/bin/time, for peakRSS; "" without it
	// rssHow says how peak RSS is measured, or why it is not.
	rssHow string
	// cleanups run in reverse order when the benchmark ends.
	cleanups []func() error
}

// newRunEnv connects to the host runner and builds the image, its
// archive and its unpacked layer.
func newRunEnv() (*runEnv, error) {
	host, err := dialHost()
	if err != nil {
		return nil, err
	}
	// A short name: podman limits the length of paths below it.
	dir, err := os.MkdirTemp("", "nook-run-")
	if err != nil {
		host.close()
		return nil, fmt.Errorf("make the run benchmark's directory: %w", err)
	}
	re := &runEnv{
		host:    host,
		dir:     dir,
		archive: filepath.Join(dir, "busybox.tar"),
		layer:   filepath.Join(dir, "layer.tar"),
		rootfs:  filepath.Join(dir, "rootfs"),
	}
	re.gnuTime, re.rssHow = findGNUTime()
	re.cleanups = append(re.cleanups, host.close, func() error {
		if err := os.RemoveAll(dir); err != nil {
			return fmt.Errorf("remove %s: %w", dir, err)
		}
		return nil
	})
	if err := re.writeImage(); err != nil {
		return re, err
	}
	if err := os.Mkdir(re.rootfs, 0o755); err != nil {
		return re, fmt.Errorf("make bwrap's root: %w", err)
	}
	// Unpacked by the user on the host, as a user would for bwrap: files
	// belong to the user, not to the layer's owners.
	if _, err := host.run(nil, "tar", "--no-same-owner", "-xf", re.layer, "-C", re.rootfs); err != nil {
		return re, fmt.Errorf("unpack the busybox layer for bwrap: %w", err)
	}
	return re, nil
}

// writeImage writes the busybox image as a docker-archive and its layer as
// a plain tar: the same bytes for every peer.
func (re *runEnv) writeImage() error {
	img, err := imagetest.NewBusybox()
	if err != nil {
		return fmt.Errorf("build the busybox image: %w", err)
	}
	if err := imagetest.WriteDockerArchive(img, runImage, re.archive); err != nil {
		return err
	}
	layers, err := img.Layers()
	if err != nil {
		return fmt.Errorf("read the busybox image's layers: %w", err)
	}
	if len(layers) != 1 {
		return fmt.Errorf("the busybox image has %d layers, want 1", len(layers))
	}
	rc, err := layers[0].Uncompressed()
	if err != nil {
		return fmt.Errorf("read the busybox layer: %w", err)
	}
	defer rc.Close()
	f, err := os.Create(re.layer)
	if err != nil {
		return fmt.Errorf("write the busybox layer: %w", err)
	}
	if _, err := io.Copy(f, rc); err != nil {
		f.Close()
		return fmt.Errorf("write the busybox layer %s: %w", re.layer, err)
	}
	return f.Close()
}

// buildNook builds cmd/nook from this checkout into the directory.
func (re *runEnv) buildNook() error {
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	re.nookBin = filepath.Join(re.dir, "bin", "nook")
	if err := goBuild(root, re.nookBin, "./cmd/nook"); err != nil {
		return fmt.Errorf("nook does not build: %w", err)
	}
	return nil
}

// privateDir makes a 0700 directory under the run directory, for a
// store or an XDG_RUNTIME_DIR (which must be private).
func (re *runEnv) privateDir(elem ...string) (string, error) {
	p := filepath.Join(append([]string{re.dir}, elem...)...)
	if err := os.MkdirAll(p, 0o700); err != nil {
		return "", fmt.Errorf("make %s: %w", p, err)
	}
	return p, nil
}

// close runs the cleanups, last registered first, and joins their errors.
func (re *runEnv) close() error {
	var errs []error
	for i := len(re.cleanups) - 1; i >= 0; i-- {
		errs = append(errs, re.cleanups[i]())
	}
	return errors.Join(errs...)
}

// version is the first line of a tool's version output, for the report.
func version(name string, args ...string) string {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		return "unknown"
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return line
}

// peakRSS runs p rssRuns times under GNU time and returns the median of
// its ru_maxrss, in MiB; 0 when GNU time is not installed (the report then
// has no memory figure, and the configuration says why).
func (re *runEnv) peakRSS(p runPeer) (float64, error) {
	if re.gnuTime == "" {
		return 0, nil
	}
	out := filepath.Join(re.dir, "maxrss")
	var mib []float64
	for range rssRuns {
		args := append([]string{re.gnuTime, "-f", "%M", "-o", out}, p.args...)
		if _, err := re.host.run(p.env, args...); err != nil {
			return 0, fmt.Errorf("peak RSS run: %w", err)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			return 0, fmt.Errorf("read GNU time's output: %w", err)
		}
		kib, err := strconv.ParseFloat(strings.TrimSpace(string(b)), 64)
		if err != nil {
			return 0, fmt.Errorf("GNU time's maximum RSS %q: %w", b, err)
		}
		mib = append(mib, kib/1024)
	}
	return middle(mib), nil
}

// findGNUTime finds GNU time (Debian's package "time"), which peakRSS
// needs, or says why there is none.
func findGNUTime() (string, string) {
	path, err := exec.LookPath("time")
	if err != nil {
		return "", fmt.Sprintf("not measured: GNU time is not installed (apt-get install time): %v", err)
	}
	out, _ := exec.Command(path, "--version").CombinedOutput()
	if !strings.Contains(string(out), "GNU") {
		return "", fmt.Sprintf("not measured: %s is not GNU time", path)
	}
	return path, "GNU time -f %M, median of " + strconv.Itoa(rssRuns) + " more runs per round"
}

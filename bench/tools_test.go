package bench

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// buildTools builds this checkout's nook-overlayfs and the mklayer helper
// into scratch/bin (never into the checkout: other work happens there), and
// indexes both layers with mklayer. What cannot be built is recorded with
// the reason, and the benchmarks that need it skip with that reason.
func (e *env) buildTools() {
	root, err := moduleRoot()
	if err != nil {
		e.nookBinErr, e.mklayerErr, e.nookTarErr = err, err, err
		return
	}
	bin := filepath.Join(e.scratch, "bin")
	e.nookBin = filepath.Join(bin, "nook-overlayfs")
	if err := goBuild(root, e.nookBin, "./cmd/nook-overlayfs"); err != nil {
		e.nookBin, e.nookBinErr = "", fmt.Errorf("nook-overlayfs does not build: %w", err)
	}
	e.mklayer = filepath.Join(bin, "mklayer")
	if err := goBuild(root, e.mklayer, "./bench/cmd/mklayer"); err != nil {
		e.mklayer, e.mklayerErr = "", fmt.Errorf("mklayer (layer.Create) does not build: %w", err)
		e.nookTarErr = e.mklayerErr
		return
	}
	for _, l := range []struct{ name, tar string }{{"data", e.dataTar}, {"rootfs", e.rootfsTar}} {
		progress("indexing the %s layer with layer.Create", l.name)
		p, err := e.index(l.tar, filepath.Join(e.scratch, "layers", l.name))
		if err != nil {
			e.nookTars, e.nookTarErr = nil, fmt.Errorf("index the %s layer: %w", l.name, err)
			return
		}
		e.nookTars = append(e.nookTars, p)
	}
}

// index runs mklayer on tarPath into a new dir and returns the indexed tar
// (dir/<hex>.tar, with dir/<hex>.idx beside it).
func (e *env) index(tarPath, dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	in, err := os.Open(tarPath)
	if err != nil {
		return "", err
	}
	defer in.Close()
	cmd := exec.Command(e.mklayer, dir)
	cmd.Stdin = in
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("mklayer %s < %s: %w: %s", dir, tarPath, err, tail(stderr.String()))
	}
	return strings.TrimSpace(string(out)), nil
}

func goBuild(root, out string, args ...string) error {
	goBin, err := exec.LookPath("go")
	if err != nil {
		return fmt.Errorf("find the go command: %w", err)
	}
	// -buildvcs=false: the checkout may belong to another user, and git
	// refuses to read it then.
	cmd := exec.Command(goBin, append([]string{"build", "-buildvcs=false", "-o", out}, args...)...)
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %w: %s", strings.Join(args, " "), err, tail(string(b)))
	}
	return nil
}

// moduleRoot finds the checkout from the package directory go test runs in.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("find the module root: no go.mod above the working directory")
		}
		dir = parent
	}
}

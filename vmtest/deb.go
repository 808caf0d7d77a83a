package main

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
)

// extractDeb writes the regular files of the .deb at deb for which keep
// (given the path inside the package, without a leading "./") is true into
// dir. dpkg-deb unpacks the .deb, whatever its compression. Modes are not
// kept: the initramfs sets each file's mode itself (newuidmap's setuid bit
// could not be set here without root anyway).
func extractDeb(ctx context.Context, deb, dir string, keep func(name string) bool) error {
	cmd := exec.CommandContext(ctx, "dpkg-deb", "--fsys-tarfile", deb)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return fmt.Errorf("unpack %s: %w", deb, err)
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("unpack %s (is dpkg-deb installed?): %w", deb, err)
	}
	err = untarKept(out, dir, keep)
	// Drain what is left, so dpkg-deb is not killed by a closed pipe.
	_, _ = io.Copy(io.Discard, out)
	if werr := cmd.Wait(); werr != nil && err == nil {
		err = fmt.Errorf("%v: %s", werr, strings.TrimSpace(stderr.String()))
	}
	if err != nil {
		return fmt.Errorf("unpack %s: %w", deb, err)
	}
	return nil
}

func untarKept(r io.Reader, dir string, keep func(string) bool) error {
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		name := strings.TrimPrefix(path.Clean(h.Name), "./")
		if h.Typeflag != tar.TypeReg || !keep(name) || !filepath.IsLocal(name) {
			continue
		}
		dst := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o755)
		if err != nil {
			return err
		}
		if _, err := io.Copy(f, tr); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
	}
}

// cachedDir returns dir after making it with fill once: fill writes into a
// temporary sibling that is renamed to dir when complete, so a run killed
// half-way or a concurrent run never sees a partial directory.
func cachedDir(dir string, fill func(tmp string) error) (string, error) {
	if _, err := os.Stat(dir); err == nil {
		return dir, nil
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), "."+filepath.Base(dir)+"-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	if err := fill(tmp); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, dir); err != nil {
		// Another run made it first: use theirs.
		if _, serr := os.Stat(dir); serr == nil {
			return dir, nil
		}
		return "", err
	}
	return dir, nil
}

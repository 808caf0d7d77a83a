package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// The VM is made of Debian packages fetched with apt-get download, which
// needs no root: only apt's package lists (apt-get update, as root, once).

// resolveKernel names the real kernel package behind the metapackage
// linux-image-<flavour> (e.g. linux-image-6.1.0-56-cloud-amd64).
func resolveKernel(ctx context.Context, flavour string) (string, error) {
	meta := "linux-image-" + flavour
	out, err := command(ctx, "apt-cache", "depends", meta)
	if err != nil {
		return "", fmt.Errorf("find Debian's %s: %s: run `sudo apt-get update` (on Debian), or name a kernel package with -kernel-pkg", meta, firstLine(err))
	}
	s := bufio.NewScanner(bytes.NewReader(out))
	for s.Scan() {
		f := strings.Fields(s.Text())
		if len(f) == 2 && f[0] == "Depends:" && strings.HasPrefix(f[1], "linux-image-") {
			return f[1], nil
		}
	}
	return "", fmt.Errorf("resolve %s: apt-cache depends names no linux-image package; run `sudo apt-get update`, or pin one with -kernel-pkg", meta)
}

// debFile is one package as apt would download it now.
type debFile struct {
	pkg  string
	name string // the file name apt-get download writes
}

// candidates asks apt which file each package's candidate version is,
// without downloading, so a cached file is used only while it is current.
func candidates(ctx context.Context, pkgs []string) ([]debFile, error) {
	out, err := command(ctx, "apt-get", append([]string{"download", "--print-uris"}, pkgs...)...)
	if err != nil {
		return nil, fmt.Errorf("find Debian's %s: %s: run `sudo apt-get update`, and check -kernel-pkg", strings.Join(pkgs, " "), firstLine(err))
	}
	// Each line: 'URL' FILE SIZE HASH, in the order asked.
	var files []debFile
	s := bufio.NewScanner(bytes.NewReader(out))
	for s.Scan() {
		f := strings.Fields(s.Text())
		if len(f) < 2 {
			continue
		}
		pkg, _, _ := strings.Cut(f[1], "_")
		files = append(files, debFile{pkg: pkg, name: f[1]})
	}
	if len(files) != len(pkgs) {
		return nil, fmt.Errorf("look up %s: apt-get download --print-uris named %d files:\n%s", strings.Join(pkgs, " "), len(files), out)
	}
	return files, nil
}

// fetchDebs returns the paths of pkgs' .deb files in dir, downloading the
// ones not there yet.
func fetchDebs(ctx context.Context, dir string, pkgs []string) (map[string]string, error) {
	files, err := candidates(ctx, pkgs)
	if err != nil {
		return nil, err
	}
	paths := map[string]string{}
	var missing []string
	for _, f := range files {
		paths[f.pkg] = filepath.Join(dir, f.name)
		if _, err := os.Stat(paths[f.pkg]); err != nil {
			missing = append(missing, f.pkg)
		}
	}
	if len(missing) == 0 {
		return paths, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("make the download cache: %w", err)
	}
	// Download into a directory of our own, then rename: a concurrent
	// run never sees half a file.
	tmp, err := os.MkdirTemp(dir, ".download-")
	if err != nil {
		return nil, fmt.Errorf("make the download cache: %w", err)
	}
	defer os.RemoveAll(tmp)
	cmd := exec.CommandContext(ctx, "apt-get", append([]string{"download", "-q"}, missing...)...)
	cmd.Dir = tmp
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("apt-get download %s: %v: %s: the VM is made of these Debian packages; check apt's sources and the network, then retry",
			strings.Join(missing, " "), err, lastLine(out))
	}
	for _, f := range files {
		if _, err := os.Stat(filepath.Join(tmp, f.name)); err != nil {
			continue
		}
		if err := os.Rename(filepath.Join(tmp, f.name), paths[f.pkg]); err != nil {
			return nil, fmt.Errorf("keep %s: %w", f.name, err)
		}
	}
	for _, pkg := range missing {
		if _, err := os.Stat(paths[pkg]); err != nil {
			return nil, fmt.Errorf("apt-get download %s wrote no %s", pkg, filepath.Base(paths[pkg]))
		}
	}
	return paths, nil
}

// command runs name with args and returns its standard output; the error
// carries its standard error.
func command(ctx context.Context, name string, args ...string) ([]byte, error) {
	return commandIn(ctx, "", name, args...)
}

// commandIn is command run in directory dir.
func commandIn(ctx context.Context, dir, name string, args ...string) ([]byte, error) {
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			return out, fmt.Errorf("%s: %v: %s", name, err, msg)
		}
		return out, fmt.Errorf("%s: %w", name, err)
	}
	return out, nil
}

// firstLine is the first line of err's message: apt says the same thing
// three ways.
func firstLine(err error) string {
	line, _, _ := strings.Cut(err.Error(), "\n")
	return line
}

// lastLine is the last non-empty line of out: where apt-get download puts
// its error.
func lastLine(out []byte) string {
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return strings.TrimRight(strings.TrimSpace(lines[len(lines)-1]), ":")
}

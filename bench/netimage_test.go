package bench

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/nookrun/nook/image/imagetest"
)

// netImage is the image BenchmarkNetwork's containers run: imagetest's
// busybox plus the host's iperf3 and what it needs to run.
const netImage = "localhost/netbench:latest"

// iperf3Path is the host's iperf3 (Debian's package iperf3), which goes
// into netImage and also runs on the host.
const iperf3Path = "/usr/bin/iperf3"

// netIndexHTML is what the container's httpd serves: the latency
// benchmark's request and response are this small.
const netIndexHTML = "ok\n"

// errNoIperf3 means the host has no iperf3 to measure with (a skip, which
// NOOK_TEST_STRICT=1 makes a failure).
var errNoIperf3 = errors.New("no iperf3 on the host (apt-get install iperf3)")

// netImageFiles are the files netImage adds to the busybox layer: iperf3
// is dynamically linked, so the binary, each library ldd lists for it and
// the dynamic loader, each at the path ldd prints (symlinks resolved to
// their content: the loader finds libraries by those names, and there is
// no ld.so.cache in the image, so they must sit in its default directory),
// and /srv/index.html for httpd.
func netImageFiles() ([]imagetest.File, error) {
	if _, err := os.Stat(iperf3Path); err != nil {
		return nil, fmt.Errorf("%w: %v", errNoIperf3, err)
	}
	paths, err := lddPaths(iperf3Path)
	if err != nil {
		return nil, err
	}
	files := []imagetest.File{{Path: "/srv/index.html", Mode: 0o644, Content: netIndexHTML}}
	for _, p := range append([]string{iperf3Path}, paths...) {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("read %s for the iperf3 image: %w", p, err)
		}
		files = append(files, imagetest.File{Path: p, Mode: 0o755, Content: string(b)})
	}
	return files, nil
}

// lddPaths lists the absolute paths ldd prints for bin: its libraries
// ("libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)") and the loader
// ("/lib64/ld-linux-x86-64.so.2 (0x...)"), not the vDSO, which the kernel
// provides.
func lddPaths(bin string) ([]string, error) {
	out, err := exec.Command("ldd", bin).Output()
	if err != nil {
		return nil, fmt.Errorf("list the libraries of %s with ldd: %w", bin, err)
	}
	var paths []string
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) >= 3 && f[1] == "=>":
			if f[2] == "not" {
				return nil, fmt.Errorf("ldd %s: %s is not found on the host", bin, f[0])
			}
			paths = append(paths, f[2])
		case len(f) >= 1 && filepath.IsAbs(f[0]):
			paths = append(paths, f[0])
		}
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("ldd %s listed no libraries: %q", bin, out)
	}
	return paths, nil
}

// writeNetImage builds netImage and writes it as a docker-archive at path,
// for nook load and podman load; it returns how many libraries went in.
func writeNetImage(path string) (int, error) {
	files, err := netImageFiles()
	if err != nil {
		return 0, err
	}
	opts := []imagetest.Option{imagetest.WithCmd("sh")}
	for _, f := range files {
		opts = append(opts, imagetest.WithFile(f))
	}
	img, err := imagetest.NewBusybox(opts...)
	if err != nil {
		return 0, fmt.Errorf("build the iperf3 image: %w", err)
	}
	if err := imagetest.WriteDockerArchive(img, netImage, path); err != nil {
		return 0, err
	}
	// The index page and iperf3 itself are not libraries.
	return len(files) - 2, nil
}

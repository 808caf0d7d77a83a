package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// config is what one run of the harness does; every field has its default
// in parseFlags.
type config struct {
	// pkgs are package patterns; empty means every package with
	// vmtest-tagged tests.
	pkgs []string
	// run replaces each package's -test.run (the Test functions of its
	// vmtest-tagged files) when not empty.
	run string
	// timeout bounds the VM from qemu's start to its power-off.
	timeout time.Duration
	// testTimeout is each test binary's -test.timeout, so a hung test
	// prints its goroutines before the VM's timeout kills everything.
	testTimeout time.Duration
	// bootTimeout: a VM whose /init has not said "ready" by then is
	// killed and booted once more.
	bootTimeout time.Duration
	// flavour names Debian's kernel metapackage linux-image-<flavour>;
	// kernelPkg pins the real package instead.
	flavour   string
	kernelPkg string
	// accel is tcg or kvm.
	accel  string
	cpus   int
	memory int // MiB
	// nookBin holds nook and nook-overlayfs (make build's bin/).
	nookBin string
	// goCmd is the go command that builds the payload and runs test2json.
	goCmd string
	// cache holds downloads, kernels and the logs of the last keepRuns runs.
	cache    string
	keepRuns int
	// systemd boots the systemd flavour: a Debian root filesystem with
	// systemd as PID 1 and a lingering user, for the tests in
	// *systemd_vmtest_test.go files (see isSystemdTestFile).
	systemd bool
	// verbose prints the whole console while the VM runs, not only the
	// harness's progress lines.
	verbose bool
}

const usage = `usage: go run ./vmtest [flags]

Runs the vmtest-tagged tests of nook's packages as an unprivileged user in a
qemu VM booting Debian's kernel with a delegated cgroup v2 subtree. make
vmtest runs it after make build.

Flags:
`

// parseFlags reads args into a config with defaults filled in.
func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	var pkgs string
	fs := flag.NewFlagSet("vmtest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	fs.StringVar(&pkgs, "pkgs", "", "space-separated packages to test (default: every package with vmtest-tagged tests)")
	fs.StringVar(&c.run, "run", "", "-test.run for every package (default: the Test functions of its vmtest-tagged files)")
	fs.DurationVar(&c.timeout, "timeout", 20*time.Minute, "kill the VM after this long")
	fs.DurationVar(&c.testTimeout, "test-timeout", 10*time.Minute, "-test.timeout of each test binary")
	fs.DurationVar(&c.bootTimeout, "boot-timeout", defaultBootTimeout, "kill a VM whose /init is not ready after this long, and boot it once more")
	fs.StringVar(&c.flavour, "kernel", "cloud-amd64", "Debian kernel flavour: the VM boots linux-image-FLAVOUR's kernel")
	fs.StringVar(&c.kernelPkg, "kernel-pkg", "", "boot this kernel package (e.g. linux-image-6.1.0-56-cloud-amd64) instead of resolving -kernel")
	fs.StringVar(&c.accel, "accel", "tcg", "qemu accelerator: tcg (software, works everywhere) or kvm")
	fs.IntVar(&c.cpus, "cpus", 2, "virtual CPUs")
	fs.IntVar(&c.memory, "memory", 2048, "VM memory in MiB (the whole root filesystem lives in it)")
	fs.StringVar(&c.nookBin, "nook-bin", "bin", "directory holding nook and nook-overlayfs (make build's output)")
	fs.StringVar(&c.goCmd, "go", "go", "go command")
	fs.StringVar(&c.cache, "cache", "", "cache directory (default $XDG_CACHE_HOME/nook-vmtest)")
	fs.IntVar(&c.keepRuns, "keep-runs", 10, "keep the logs of this many runs")
	fs.BoolVar(&c.systemd, "systemd", false, "boot the systemd VM (Debian root filesystem from mmdebstrap, systemd as init, a lingering user) and run the tests of *systemd_vmtest_test.go files")
	fs.BoolVar(&c.verbose, "v", false, "print the whole VM console, not only progress")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments %q: packages go in -pkgs", fs.Args())
	}
	c.pkgs = strings.Fields(pkgs)
	switch c.accel {
	case "tcg", "kvm":
	default:
		return c, fmt.Errorf("-accel %q: use tcg or kvm", c.accel)
	}
	if c.timeout <= 0 || c.testTimeout <= 0 || c.bootTimeout <= 0 {
		return c, errors.New("-timeout, -test-timeout and -boot-timeout must be positive")
	}
	if c.cpus < 1 || c.memory < 256 {
		return c, errors.New("-cpus must be at least 1 and -memory at least 256 (MiB)")
	}
	if c.cache == "" {
		dir, err := os.UserCacheDir()
		if err != nil {
			return c, fmt.Errorf("find the cache directory (set -cache or $XDG_CACHE_HOME): %w", err)
		}
		c.cache = filepath.Join(dir, "nook-vmtest")
	}
	return c, nil
}

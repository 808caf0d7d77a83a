package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Exit statuses: 0 all passed; 1 a test failed, or the VM timed out or
// crashed; 2 the harness could not build or boot the VM.
const (
	exitPass  = 0
	exitFail  = 1
	exitSetup = 2
)

// errNoSystemdTests is a -systemd run with nothing to run.
var errNoSystemdTests = errors.New("no test for the systemd VM among -pkgs and -run (Test functions of *systemd_vmtest_test.go files)")

// downloadTimeout bounds the apt-get downloads (27 MB for the kernel).
const downloadTimeout = 10 * time.Minute

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitPass
	}
	if err != nil {
		fmt.Fprintf(stderr, "vmtest: %v\n", err)
		return exitSetup
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	code, err := runVM(ctx, cfg, stdout, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "vmtest: %v\n", err)
		return exitSetup
	}
	return code
}

// runVM builds the VM, boots it and reports; an error means there was no
// test run to report on.
func runVM(ctx context.Context, cfg config, stdout, stderr io.Writer) (int, error) {
	start := time.Now()
	v, err := buildVM(ctx, cfg, stderr)
	if errors.Is(err, errNoSystemdTests) {
		// make vmtest runs the systemd VM after the busybox one for the
		// same -pkgs and -run, which may name none of its tests.
		progress(stderr, "%v: the systemd VM is not booted", err)
		fmt.Fprintf(stdout, "vmtest: 0 passed, 0 failed, 0 skipped\n")
		return exitPass, nil
	}
	if v.payloadDir != "" {
		defer os.RemoveAll(v.payloadDir)
	}
	if v.initrd != "" {
		defer os.Remove(v.initrd)
	}
	if err != nil {
		return 0, err
	}
	buildTime := time.Since(start)
	var (
		res vmResults
		b   boot
	)
	if len(v.built) > 0 {
		progress(stderr, "built in %.1f s (initramfs %d MiB); booting %s (%s) for at most %v",
			buildTime.Seconds(), v.initrdSize>>20, v.kernel.pkg, bootKind(v.kernel), cfg.timeout)
		if b, err = runQemu(ctx, cfg, v.kernel, v.initrd, v.runDir, stderr); err != nil {
			return 0, err
		}
		if b.bootHung {
			// Once: a second hang is a real problem, reported below.
			progress(stderr, "the VM did not boot within %v (console in %s); booting it again", cfg.bootTimeout, v.runDir)
			if b, err = runQemu(ctx, cfg, v.kernel, v.initrd, v.runDir, stderr); err != nil {
				return 0, err
			}
		}
		data, err := os.ReadFile(filepath.Join(v.runDir, "results.txt"))
		if err != nil {
			return 0, fmt.Errorf("read the VM's results: %w", err)
		}
		res = parseResults(data)
	}
	t, err := report(ctx, stdout, cfg.goCmd, v.built, v.broken, res)
	if err != nil {
		return 0, err
	}
	if len(v.built) > 0 && !res.done {
		vmStopped(stdout, &t, cfg, b, v.runDir)
	}
	for _, f := range t.failures {
		fmt.Fprintf(stdout, "vmtest: FAIL %s\n", f)
	}
	fmt.Fprintf(stdout, "vmtest: times: build %.1f s, boot %.1f s, payload %s s, qemu %.1f s, total %.1f s\n",
		buildTime.Seconds(), b.toReady.Seconds(), orUnknown(b.guestPayload), b.wall.Seconds(), time.Since(start).Seconds())
	fmt.Fprintf(stdout, "vmtest: %d passed, %d failed, %d skipped\n", t.passed, t.failed, t.skipped)
	if t.failed > 0 {
		return exitFail, nil
	}
	return exitPass, nil
}

// vm is what buildVM made.
type vm struct {
	runDir     string
	kernel     kernel
	payloadDir string
	built      []testPkg
	broken     []buildFailure
	initrd     string // "" when nothing built
	initrdSize int64
}

// buildVM selects the packages, then fetches the Debian side (apt,
// unpacking) while it compiles the Go side, and writes the initramfs.
func buildVM(ctx context.Context, cfg config, stderr io.Writer) (vm, error) {
	var v vm
	if err := validRun(cfg.run); err != nil {
		return v, err
	}
	modRoot, err := moduleRoot(ctx, cfg.goCmd)
	if err != nil {
		return v, err
	}
	pkgs, err := selectPackages(ctx, cfg.goCmd, modRoot, cfg.pkgs, cfg.run, cfg.systemd)
	if err != nil {
		return v, err
	}
	if len(pkgs) == 0 {
		if cfg.systemd {
			return v, errNoSystemdTests
		}
		return v, errors.New("no package to test: none has vmtest-tagged tests (//go:build vmtest) among -pkgs")
	}
	names := make([]string, len(pkgs))
	for i, p := range pkgs {
		names[i] = p.importPath
	}
	progress(stderr, "packages: %s", strings.Join(names, " "))
	if v.runDir, err = newRunDir(cfg.cache, cfg.keepRuns); err != nil {
		return v, err
	}
	progress(stderr, "logs in %s", v.runDir)

	var (
		wg     sync.WaitGroup
		u      userland
		rootfs string
		vErr   error
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		v.kernel, u, vErr = prepareVM(ctx, cfg)
		if vErr == nil && cfg.systemd {
			rootfs, vErr = prepareRootfs(ctx, cfg.cache)
		}
	}()
	v.payloadDir = filepath.Join(v.runDir, "payload")
	var bErr error
	v.built, v.broken, bErr = buildPayload(ctx, cfg.goCmd, v.payloadDir, pkgs)
	wg.Wait()
	if vErr != nil {
		return v, vErr
	}
	if bErr != nil || len(v.built) == 0 {
		return v, bErr
	}
	v.initrd = filepath.Join(v.runDir, "initramfs.cpio")
	p := payload{dir: v.payloadDir, pkgs: v.built, nookBin: cfg.nookBin, testTimeout: cfg.testTimeout}
	if cfg.systemd {
		err = writeSystemdInitramfs(v.initrd, rootfs, v.kernel, p)
	} else {
		err = writeInitramfs(v.initrd, v.kernel, u, p)
	}
	if err != nil {
		return v, err
	}
	if st, err := os.Stat(v.initrd); err == nil {
		v.initrdSize = st.Size()
	}
	return v, nil
}

// vmStopped reports a VM that did not get through its plan, with the end
// of its console. It counts as a failure unless a test it stopped already
// does.
func vmStopped(w io.Writer, t *tally, cfg config, b boot, runDir string) {
	why := "crashed or powered off early"
	switch {
	case b.bootHung:
		why = fmt.Sprintf("did not boot within %v, twice, and was killed", cfg.bootTimeout)
	case b.timedOut:
		why = fmt.Sprintf("ran past -timeout %v and was killed", cfg.timeout)
	}
	qemu := "qemu exited 0"
	if b.err != nil {
		qemu = "qemu: " + b.err.Error()
	}
	msg := fmt.Sprintf("the VM %s (%s); console: %s", why, qemu, filepath.Join(runDir, "console.log"))
	if t.failed == 0 {
		t.fail("%s", msg)
	} else {
		t.note("%s", msg)
	}
	fmt.Fprintf(w, "=== vmtest: the end of the console\n%s\n", strings.Join(b.tail, "\n"))
}

// prepareVM fetches and unpacks the Debian packages the VM is made of.
func prepareVM(ctx context.Context, cfg config) (kernel, userland, error) {
	ctx, cancel := context.WithTimeout(ctx, downloadTimeout)
	defer cancel()
	kpkg := cfg.kernelPkg
	if kpkg == "" {
		var err error
		if kpkg, err = resolveKernel(ctx, cfg.flavour); err != nil {
			return kernel{}, userland{}, err
		}
	}
	debs, err := fetchDebs(ctx, filepath.Join(cfg.cache, "debs"), append([]string{kpkg}, userlandDebs...))
	if err != nil {
		return kernel{}, userland{}, err
	}
	k, err := prepareKernel(ctx, cfg.cache, kpkg, debs[kpkg])
	if err != nil {
		return k, userland{}, err
	}
	u, err := prepareUserland(ctx, cfg.cache, debs)
	return k, u, err
}

func bootKind(k kernel) string {
	if k.vmlinux != "" {
		return "PVH boot of vmlinux"
	}
	return "bzImage"
}

func orUnknown(s string) string {
	if s == "" {
		return "?"
	}
	return s
}

// newRunDir makes runs/<time>-<pid> in the cache for this run's logs and
// removes all but the newest keep runs.
func newRunDir(cache string, keep int) (string, error) {
	runs := filepath.Join(cache, "runs")
	dir := filepath.Join(runs, fmt.Sprintf("%s-%d", time.Now().Format("20060102-150405"), os.Getpid()))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("make the run directory (set -cache to a writable place): %w", err)
	}
	entries, err := os.ReadDir(runs)
	if err != nil {
		return "", fmt.Errorf("list old runs: %w", err)
	}
	var old []string
	for _, e := range entries {
		if e.IsDir() {
			old = append(old, e.Name())
		}
	}
	sort.Strings(old)
	for len(old) > keep && keep > 0 {
		_ = os.RemoveAll(filepath.Join(runs, old[0]))
		old = old[1:]
	}
	return dir, nil
}

// progress and notice write the harness's own lines to stderr: test
// output and the summary go to stdout.
func progress(w io.Writer, format string, args ...any) {
	fmt.Fprintf(w, "vmtest: "+format+"\n", args...)
}

func notice(format string, args ...any) {
	progress(os.Stderr, format, args...)
}

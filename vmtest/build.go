package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// runasPkg is the VM's privilege-dropping helper.
const runasPkg = "github.com/nookrun/nook/vmtest/runas"

// buildFlags make small static binaries: the whole payload is copied into
// the VM's memory twice (the initramfs, then its tmpfs copy). Symbols stay
// out, but panics still name functions (that is the pclntab, not -s -w).
// No VCS stamp: nothing in the VM reads it, and it fails in a checkout
// owned by another user (CI's copy, shared checkouts).
var buildFlags = []string{"-trimpath", "-buildvcs=false", "-ldflags=-s -w"}

// buildFailure is a package whose test binary did not build; it counts as
// a failed package and the others still run.
type buildFailure struct {
	pkg    testPkg
	output string
}

// buildPayload builds runas and each package's test binary into dir
// (NAME.test), with cgo off as everywhere in nook. It returns the packages
// that built and those that did not.
func buildPayload(ctx context.Context, goCmd, dir string, pkgs []testPkg) (built []testPkg, failed []buildFailure, err error) {
	if out, err := goBuild(ctx, goCmd, "build", "-o", filepath.Join(dir, "runas"), runasPkg); err != nil {
		return nil, nil, fmt.Errorf("build %s: %v\n%s", runasPkg, err, out)
	}
	for _, p := range pkgs {
		out, err := goBuild(ctx, goCmd, "test", "-c", "-tags", buildTag, "-o", filepath.Join(dir, p.name+".test"), p.importPath)
		if err != nil {
			if ctx.Err() != nil {
				return nil, nil, ctx.Err()
			}
			failed = append(failed, buildFailure{pkg: p, output: strings.TrimSpace(out)})
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, p.name+".test")); err != nil {
			failed = append(failed, buildFailure{pkg: p, output: "go test -c wrote no test binary (no test files with -tags vmtest?)"})
			continue
		}
		built = append(built, p)
	}
	return built, failed, nil
}

func goBuild(ctx context.Context, goCmd, verb string, args ...string) (string, error) {
	args = append(append([]string{verb}, buildFlags...), args...)
	cmd := exec.CommandContext(ctx, goCmd, args...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// moduleRoot is the directory of the main module's go.mod.
func moduleRoot(ctx context.Context, goCmd string) (string, error) {
	out, err := command(ctx, goCmd, "env", "GOMOD")
	if err != nil {
		return "", fmt.Errorf("find the module: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("not inside nook's module: run make vmtest from the checkout")
	}
	return filepath.Dir(gomod), nil
}

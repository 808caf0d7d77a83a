package main

import (
	"context"
	"debug/elf"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// userland is the VM's few programs besides the payload.
type userland struct {
	busybox string // static: the shell, /init's tools and every applet
	// newuidmap and newgidmap are setuid root in the VM, as Debian's uidmap
	// installs them, so nook's subordinate-id mode works for the user.
	newuidmap, newgidmap string
	// nsenter is util-linux's, as on every host nook runs on: nook exec
	// needs its --cgroup, which busybox's applet lacks.
	nsenter string
	// libs are the shared libraries newuidmap, newgidmap and nsenter load, with the
	// dynamic loader; each goes to the same path in the VM.
	libs []string
}

// userlandDebs are the packages the VM's programs come from.
var userlandDebs = []string{"busybox-static", "uidmap", "util-linux"}

// prepareUserland unpacks the programs from their .debs (once per version)
// and finds the shared libraries they need on this host, whose
// release the .deb came from.
func prepareUserland(ctx context.Context, cache string, debs map[string]string) (userland, error) {
	var u userland
	files := map[string]string{}
	for pkg, want := range map[string][]string{
		"busybox-static": {"bin/busybox"},
		"uidmap":         {"usr/bin/newuidmap", "usr/bin/newgidmap"},
		"util-linux":     {"usr/bin/nsenter"},
	} {
		deb := debs[pkg]
		dir, err := cachedDir(filepath.Join(cache, "pkg", strings.TrimSuffix(filepath.Base(deb), ".deb")), func(tmp string) error {
			return extractDeb(ctx, deb, tmp, func(name string) bool {
				for _, w := range want {
					if name == w {
						return true
					}
				}
				return false
			})
		})
		if err != nil {
			return u, fmt.Errorf("unpack %s: %w", pkg, err)
		}
		for _, w := range want {
			p := filepath.Join(dir, w)
			if _, err := os.Stat(p); err != nil {
				return u, fmt.Errorf("%s has no %s: %w", filepath.Base(deb), w, err)
			}
			files[w] = p
		}
	}
	u.busybox, u.newuidmap, u.newgidmap = files["bin/busybox"], files["usr/bin/newuidmap"], files["usr/bin/newgidmap"]
	u.nsenter = files["usr/bin/nsenter"]
	libs := map[string]bool{}
	for _, bin := range []string{u.newuidmap, u.newgidmap, u.nsenter} {
		if err := sharedLibs(bin, libs); err != nil {
			return u, err
		}
	}
	for lib := range libs {
		u.libs = append(u.libs, lib)
	}
	sort.Strings(u.libs)
	return u, nil
}

// libDirs are where the dynamic loader looks without an ld.so.cache, and
// so where the libraries go in the VM.
var libDirs = []string{"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/lib", "/usr/lib"}

// sharedLibs adds the loader and every library bin needs, recursively, to
// libs. Reading DT_NEEDED is enough: unlike ldd, nothing of bin is run.
func sharedLibs(bin string, libs map[string]bool) error {
	f, err := elf.Open(bin)
	if err != nil {
		return fmt.Errorf("read %s: %w", bin, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			data := make([]byte, p.Filesz)
			if _, err := p.ReadAt(data, 0); err != nil {
				return fmt.Errorf("read the interpreter of %s: %w", bin, err)
			}
			interp := strings.TrimRight(string(data), "\x00")
			if _, err := os.Stat(interp); err != nil {
				return fmt.Errorf("%s needs %s, which this host lacks: %w", bin, interp, err)
			}
			libs[interp] = true
		}
	}
	needed, err := f.ImportedLibraries()
	if err != nil {
		return fmt.Errorf("read the libraries of %s: %w", bin, err)
	}
	for _, name := range needed {
		path, err := findLib(name)
		if err != nil {
			return fmt.Errorf("%s needs %s: %w", bin, name, err)
		}
		if libs[path] {
			continue
		}
		libs[path] = true
		if err := sharedLibs(path, libs); err != nil {
			return err
		}
	}
	return nil
}

func findLib(name string) (string, error) {
	for _, dir := range libDirs {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("not found in %s", strings.Join(libDirs, " "))
}

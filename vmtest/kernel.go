package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// kernel is what qemu boots and what /init loads.
type kernel struct {
	pkg     string
	release string // uname -r
	vmlinuz string // the bzImage as Debian ships it
	// vmlinux is the uncompressed ELF for a PVH boot, or "" when it could
	// not be made (then the bzImage boots, about a second slower).
	vmlinux string
	// modules are the .ko files to insmod, dependencies first.
	modules []string
}

// wantModules are the modules /init loads: FUSE for the union root,
// overlay for the differential tests, tun and veth for network namespaces,
// brd for a block device to throttle with io.max.
var wantModules = []string{"fuse", "overlay", "tun", "veth", "brd"}

// prepareKernel unpacks the kernel package deb (once per package) into the
// cache: the bzImage, and the wanted modules with the modules they depend
// on, decompressed (busybox insmod reads plain .ko only) and in load order.
func prepareKernel(ctx context.Context, cache, pkg, deb string) (kernel, error) {
	release := strings.TrimPrefix(pkg, "linux-image-")
	k := kernel{pkg: pkg, release: release}
	dir, err := cachedDir(filepath.Join(cache, "kernel", pkg), func(tmp string) error {
		return unpackKernel(ctx, deb, release, tmp)
	})
	if err != nil {
		return k, fmt.Errorf("unpack kernel %s: %w", pkg, err)
	}
	k.vmlinuz = filepath.Join(dir, "vmlinuz")
	order, err := os.ReadFile(filepath.Join(dir, "modules", "order"))
	if err != nil {
		return k, fmt.Errorf("read the module order of %s: %w", pkg, err)
	}
	for _, name := range strings.Fields(string(order)) {
		k.modules = append(k.modules, filepath.Join(dir, "modules", name+".ko"))
	}
	k.vmlinux, err = cachedVmlinux(ctx, dir)
	if err != nil {
		return k, err
	}
	return k, nil
}

func unpackKernel(ctx context.Context, deb, release, dir string) error {
	raw := filepath.Join(dir, ".deb")
	modRoot := "lib/modules/" + release + "/"
	keep := func(name string) bool {
		return name == "boot/vmlinuz-"+release ||
			name == modRoot+"modules.builtin" ||
			strings.HasPrefix(name, modRoot+"kernel/") && isModuleFile(name)
	}
	if err := extractDeb(ctx, deb, raw, keep); err != nil {
		return err
	}
	defer os.RemoveAll(raw)
	if err := os.Rename(filepath.Join(raw, "boot", "vmlinuz-"+release), filepath.Join(dir, "vmlinuz")); err != nil {
		return fmt.Errorf("no boot/vmlinuz-%s in %s: %w", release, deb, err)
	}
	tree, err := indexModules(filepath.Join(raw, modRoot))
	if err != nil {
		return err
	}
	mods, err := tree.resolve(ctx, wantModules)
	if err != nil {
		return err
	}
	out := filepath.Join(dir, "modules")
	if err := os.Mkdir(out, 0o755); err != nil {
		return err
	}
	var names []string
	for _, m := range mods {
		if err := os.WriteFile(filepath.Join(out, m.name+".ko"), m.data, 0o644); err != nil {
			return err
		}
		names = append(names, m.name)
	}
	return os.WriteFile(filepath.Join(out, "order"), []byte(strings.Join(names, "\n")+"\n"), 0o644)
}

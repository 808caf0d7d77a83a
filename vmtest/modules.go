package main

import (
	"bufio"
	"bytes"
	"context"
	"debug/elf"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// The initramfs has no modules.dep and busybox insmod resolves nothing, so
// the harness orders the modules itself from the depends= line each .ko
// carries in its .modinfo section.

// moduleTree indexes a kernel package's lib/modules/RELEASE directory.
type moduleTree struct {
	files   map[string]string // module name → .ko file
	builtin map[string]bool   // modules built into the kernel
}

// loadable is one module ready for insmod.
type loadable struct {
	name string
	data []byte // the plain .ko
}

// isModuleFile reports whether name is a kernel module, plain or
// compressed (Debian 13 and later compress them).
func isModuleFile(name string) bool {
	for _, ext := range []string{".ko", ".ko.xz", ".ko.zst"} {
		if strings.HasSuffix(name, ext) {
			return true
		}
	}
	return false
}

// moduleName is the kernel's name for a module file: no directory, no
// extension, dashes as underscores (as depends= spells them).
func moduleName(file string) string {
	base := filepath.Base(file)
	base = base[:strings.Index(base, ".ko")]
	return strings.ReplaceAll(base, "-", "_")
}

func indexModules(root string) (*moduleTree, error) {
	t := &moduleTree{files: map[string]string{}, builtin: map[string]bool{}}
	err := filepath.WalkDir(filepath.Join(root, "kernel"), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && isModuleFile(p) {
			t.files[moduleName(p)] = p
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("index the kernel's modules: %w", err)
	}
	// modules.builtin lists one path per built-in module, e.g.
	// kernel/fs/ext4/ext4.ko.
	if data, err := os.ReadFile(filepath.Join(root, "modules.builtin")); err == nil {
		s := bufio.NewScanner(bytes.NewReader(data))
		for s.Scan() {
			if line := strings.TrimSpace(s.Text()); line != "" {
				t.builtin[moduleName(line)] = true
			}
		}
	}
	return t, nil
}

// resolve returns want and what they depend on, each once, every module
// after its dependencies. A module built into the kernel needs no loading.
func (t *moduleTree) resolve(ctx context.Context, want []string) ([]loadable, error) {
	var order []loadable
	seen := map[string]bool{}
	var visit func(name, wantedBy string) error
	visit = func(name, wantedBy string) error {
		if seen[name] || t.builtin[name] {
			return nil
		}
		seen[name] = true
		file, ok := t.files[name]
		if !ok {
			if wantedBy != "" {
				return fmt.Errorf("module %s (needed by %s) is not in the kernel package", name, wantedBy)
			}
			return fmt.Errorf("module %s is neither built in nor in the kernel package", name)
		}
		data, err := readModule(ctx, file)
		if err != nil {
			return err
		}
		deps, err := moduleDepends(data)
		if err != nil {
			return fmt.Errorf("read the dependencies of %s: %w", file, err)
		}
		for _, d := range deps {
			if err := visit(d, name); err != nil {
				return err
			}
		}
		order = append(order, loadable{name: name, data: data})
		return nil
	}
	for _, name := range want {
		if err := visit(name, ""); err != nil {
			return nil, err
		}
	}
	return order, nil
}

// readModule returns the plain .ko, decompressing with xz or zstd.
func readModule(ctx context.Context, file string) ([]byte, error) {
	switch {
	case strings.HasSuffix(file, ".ko.xz"):
		return decompress(ctx, file, "xz", "xz-utils")
	case strings.HasSuffix(file, ".ko.zst"):
		return decompress(ctx, file, "zstd", "zstd")
	}
	return os.ReadFile(file)
}

func decompress(ctx context.Context, file, tool, debianPkg string) ([]byte, error) {
	out, err := command(ctx, tool, "-dc", file)
	if err != nil {
		return nil, fmt.Errorf("decompress %s (install Debian's %s): %w", file, debianPkg, err)
	}
	return out, nil
}

// moduleDepends reads the depends= entry of a module's .modinfo section:
// NUL-separated key=value strings.
func moduleDepends(ko []byte) ([]string, error) {
	f, err := elf.NewFile(bytes.NewReader(ko))
	if err != nil {
		return nil, err
	}
	sec := f.Section(".modinfo")
	if sec == nil {
		return nil, fmt.Errorf("no .modinfo section")
	}
	info, err := sec.Data()
	if err != nil {
		return nil, err
	}
	for _, kv := range bytes.Split(info, []byte{0}) {
		if v, ok := bytes.CutPrefix(kv, []byte("depends=")); ok {
			var deps []string
			for _, d := range strings.Split(string(v), ",") {
				if d != "" {
					deps = append(deps, strings.ReplaceAll(d, "-", "_"))
				}
			}
			return deps, nil
		}
	}
	return nil, nil
}

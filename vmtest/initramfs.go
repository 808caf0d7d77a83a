package main

import (
	_ "embed"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"
)

// initScript becomes /init: it sets up the VM and runs the payload.
//
//go:embed init.sh
var initScript []byte

// payloadScript runs the test binaries; both flavours' /init source it.
//
//go:embed payload.sh
var payloadScript []byte

// The user the tests run as in the VM (init.sh makes it).
const vmUID, vmGID = 1000, 1000

// moduleParams are insmod's arguments per module: one 16 MiB RAM disk
// without partitions, for io.max.
var moduleParams = map[string]string{"brd": "rd_nr=1 rd_size=16384 max_part=0"}

// payload is what the VM runs.
type payload struct {
	dir         string // runas and NAME.test, from buildPayload
	pkgs        []testPkg
	nookBin     string // holds nook and nook-overlayfs
	testTimeout time.Duration
}

// writeInitramfs writes the VM's root filesystem as an uncompressed cpio
// to file: measured, compressing it buys nothing under TCG (the kernel
// inflates what qemu would have copied), and it costs a second here.
//
//	/init                    init.sh
//	/bin/busybox, /bin/sh    busybox-static (init.sh installs the applet links)
//	/usr/bin/new[ug]idmap    setuid root, with their libraries
//	/lib/modules/vmtest/     the modules and "order" (name and parameters per line)
//	/usr/local/bin/          nook, nook-overlayfs
//	/vmtest/runas            drops to the user inside a cgroup
//	/vmtest/payload.sh       runs the test binaries (sourced by /init)
//	/vmtest/bin/NAME.test    the test binaries
//	/vmtest/src/REL/         each package's files and testdata, the user's
//	/vmtest/plan             NAME REL RUN TIMEOUT per line, tab-separated
func writeInitramfs(file string, k kernel, u userland, p payload) error {
	return writeArchive(file,
		func(t *tree) error { return t.base(u) },
		func(t *tree) error { return t.modules(k) },
		func(t *tree) error { return t.payload(p) },
	)
}

// writeArchive writes an uncompressed cpio to file, its content added by
// steps in order; both VMs' initramfs are made this way.
func writeArchive(file string, steps ...func(*tree) error) (err error) {
	f, err := os.Create(file)
	if err != nil {
		return fmt.Errorf("write initramfs: %w", err)
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("write initramfs: %w", cerr)
		}
	}()
	t := &tree{w: newCPIOWriter(f), dirs: map[string]bool{}}
	for _, step := range steps {
		if err := step(t); err != nil {
			return fmt.Errorf("write initramfs: %w", err)
		}
	}
	if err := t.w.Close(); err != nil {
		return fmt.Errorf("write initramfs: %w", err)
	}
	return nil
}

// tree adds files to the archive, each after its parent directories.
type tree struct {
	w    *cpioWriter
	dirs map[string]bool
}

// dir adds name and its missing parents (root's, 0755) and then name with
// the given owner and mode, unless it is there already.
func (t *tree) dir(name string, perm, uid, gid uint32) error {
	if name == "." || t.dirs[name] {
		return nil
	}
	if err := t.dir(path.Dir(name), 0o755, 0, 0); err != nil {
		return err
	}
	t.dirs[name] = true
	return t.w.Dir(name, perm, uid, gid)
}

func (t *tree) file(name string, perm, uid, gid uint32, src string) error {
	if err := t.dir(path.Dir(name), 0o755, 0, 0); err != nil {
		return err
	}
	if err := t.w.File(name, perm, uid, gid, src); err != nil {
		return fmt.Errorf("add %s: %w", src, err)
	}
	return nil
}

func (t *tree) bytes(name string, perm uint32, data []byte) error {
	if err := t.dir(path.Dir(name), 0o755, 0, 0); err != nil {
		return err
	}
	return t.w.Bytes(name, perm, 0, 0, data)
}

func (t *tree) base(u userland) error {
	for _, d := range []string{"bin", "sbin", "usr/bin", "usr/sbin", "usr/local/bin", "etc", "proc", "sys", "dev", "run", "home"} {
		if err := t.dir(d, 0o755, 0, 0); err != nil {
			return err
		}
	}
	if err := t.dir("root", 0o700, 0, 0); err != nil {
		return err
	}
	if err := t.dir("tmp", 0o1777, 0, 0); err != nil {
		return err
	}
	// The kernel opens /dev/console for /init's output before devtmpfs
	// is mounted.
	if err := t.w.CharDev("dev/console", 0o600, 5, 1); err != nil {
		return err
	}
	if err := t.bytes("init", 0o755, initScript); err != nil {
		return err
	}
	if err := t.file("bin/busybox", 0o755, 0, 0, u.busybox); err != nil {
		return err
	}
	if err := t.w.Symlink("bin/sh", "busybox"); err != nil {
		return err
	}
	if err := t.file("usr/bin/newuidmap", 0o4755, 0, 0, u.newuidmap); err != nil {
		return err
	}
	if err := t.file("usr/bin/newgidmap", 0o4755, 0, 0, u.newgidmap); err != nil {
		return err
	}
	// Before busybox --install, which leaves existing files alone.
	if err := t.file("usr/bin/nsenter", 0o755, 0, 0, u.nsenter); err != nil {
		return err
	}
	for _, lib := range u.libs {
		if err := t.file(strings.TrimPrefix(lib, "/"), 0o755, 0, 0, lib); err != nil {
			return err
		}
	}
	return nil
}

func (t *tree) modules(k kernel) error { return t.modulesAt("lib/modules/vmtest", k) }

// modulesAt adds the modules and their "order" file to dir.
func (t *tree) modulesAt(dir string, k kernel) error {
	var order strings.Builder
	for _, ko := range k.modules {
		name := strings.TrimSuffix(filepath.Base(ko), ".ko")
		if err := t.file(dir+"/"+name+".ko", 0o644, 0, 0, ko); err != nil {
			return err
		}
		fmt.Fprintf(&order, "%s %s\n", name, moduleParams[name])
	}
	return t.bytes(dir+"/order", 0o644, []byte(order.String()))
}

func (t *tree) payload(p payload) error {
	for _, bin := range []string{"nook", "nook-overlayfs"} {
		src := filepath.Join(p.nookBin, bin)
		if _, err := os.Stat(src); err != nil {
			return fmt.Errorf("no %s: run make build first (make vmtest does): %w", src, err)
		}
		if err := t.file("usr/local/bin/"+bin, 0o755, 0, 0, src); err != nil {
			return err
		}
	}
	if err := t.file("vmtest/runas", 0o755, 0, 0, filepath.Join(p.dir, "runas")); err != nil {
		return err
	}
	if err := t.bytes("vmtest/payload.sh", 0o644, payloadScript); err != nil {
		return err
	}
	if err := t.dir("vmtest/src", 0o755, vmUID, vmGID); err != nil {
		return err
	}
	var plan strings.Builder
	for _, pkg := range p.pkgs {
		if err := t.file("vmtest/bin/"+pkg.name+".test", 0o755, 0, 0, filepath.Join(p.dir, pkg.name+".test")); err != nil {
			return err
		}
		if err := t.packageCopy(pkg); err != nil {
			return err
		}
		fmt.Fprintf(&plan, "%s\t%s\t%s\t%s\n", pkg.name, pkg.rel, pkg.run, p.testTimeout)
	}
	return t.bytes("vmtest/plan", 0o644, []byte(plan.String()))
}

// packageCopy adds /vmtest/src/REL with the package's testdata, owned by
// the user, who runs the tests there.
func (t *tree) packageCopy(pkg testPkg) error {
	root := path.Join("vmtest/src", pkg.rel)
	if err := t.userDirs(root); err != nil {
		return err
	}
	files, err := testdataFiles(pkg.dir)
	if err != nil {
		return fmt.Errorf("list %s's test data: %w", pkg.importPath, err)
	}
	for _, rel := range files {
		src := filepath.Join(pkg.dir, rel)
		dst := path.Join(root, filepath.ToSlash(rel))
		st, err := os.Lstat(src)
		if err != nil {
			return err
		}
		perm := uint32(st.Mode().Perm())
		switch {
		case st.IsDir():
			err = t.dir(dst, perm|0o700, vmUID, vmGID)
		case st.Mode()&os.ModeSymlink != 0:
			var target string
			if target, err = os.Readlink(src); err == nil {
				err = t.w.Symlink(dst, target)
			}
		case st.Mode().IsRegular():
			err = t.file(dst, perm, vmUID, vmGID, src)
		}
		if err != nil {
			return fmt.Errorf("copy %s into the VM: %w", src, err)
		}
	}
	return nil
}

// userDirs adds dir and its parents below vmtest/src, owned by the user.
func (t *tree) userDirs(dir string) error {
	if dir == "vmtest/src" || t.dirs[dir] {
		return nil
	}
	if err := t.userDirs(path.Dir(dir)); err != nil {
		return err
	}
	return t.dir(dir, 0o755, vmUID, vmGID)
}

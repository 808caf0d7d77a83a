package main

import (
	"archive/tar"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
)

// systemdScript is /init and the payload of the systemd flavour (-systemd):
// stage 1 as PID 1 on the initial rootfs, then "payload" run by
// vmtest.service under systemd.
//
//go:embed systemd.sh
var systemdScript []byte

// systemdUnit runs the payload once the user's systemd manager (with its
// session bus) and the system bus are up; the tests run from its cgroup,
// which is not delegated to the user, so nook has to ask systemd.
const systemdUnit = `[Unit]
Description=make vmtest's payload
Requires=user@1000.service dbus.service
After=user@1000.service dbus.service systemd-logind.service

[Service]
Type=oneshot
ExecStart=/init payload
StandardInput=null
StandardOutput=null
StandardError=null
TimeoutStartSec=infinity
`

// writeSystemdInitramfs writes the systemd flavour's initramfs: the whole
// Debian root filesystem from the mmdebstrap tar (owners and modes as the
// tar says, so no root is needed here), then
//
//	/init                                 systemd.sh
//	/etc/systemd/system/vmtest.service    systemdUnit, wanted by multi-user.target
//	/vmtest/modules/                      the modules and "order"
//	/usr/local/bin/                       nook, nook-overlayfs
//	/vmtest/runas, payload.sh, bin, src, plan   as in writeInitramfs
func writeSystemdInitramfs(file, rootfs string, k kernel, p payload) error {
	return writeArchive(file,
		func(t *tree) error { return t.rootfs(rootfs) },
		func(t *tree) error { return t.bytes("init", 0o755, systemdScript) },
		func(t *tree) error {
			return t.bytes("etc/systemd/system/vmtest.service", 0o644, []byte(systemdUnit))
		},
		func(t *tree) error {
			if err := t.dir("etc/systemd/system/multi-user.target.wants", 0o755, 0, 0); err != nil {
				return err
			}
			return t.w.Symlink("etc/systemd/system/multi-user.target.wants/vmtest.service", "/etc/systemd/system/vmtest.service")
		},
		func(t *tree) error { return t.modulesAt("vmtest/modules", k) },
		func(t *tree) error { return t.payload(p) },
	)
}

// rootfs copies the entries of the tar at file into the archive. Device
// nodes are left out (devtmpfs makes them) but for /dev/console, which
// the kernel opens before anything is mounted.
func (t *tree) rootfs(file string) error {
	f, err := os.Open(file)
	if err != nil {
		return fmt.Errorf("read the root filesystem: %w", err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	inos := map[string]uint32{}
	links := map[string]bool{}
	// Hard link targets must be written linkable: find them first.
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("read %s: %w", file, err)
		}
		if h.Typeflag == tar.TypeLink {
			links[tarName(h.Linkname)] = true
		}
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	tr = tar.NewReader(f)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("read %s: %w", file, err)
		}
		name := tarName(h.Name)
		if name == "" {
			continue
		}
		perm := uint32(h.Mode) & 0o7777
		uid, gid := uint32(h.Uid), uint32(h.Gid)
		switch h.Typeflag {
		case tar.TypeDir:
			t.dirs[name] = true
			err = t.w.Dir(name, perm, uid, gid)
		case tar.TypeReg:
			var ino uint32
			ino, err = t.w.FileFrom(name, perm, uid, gid, h.Size, tr, links[name])
			if links[name] {
				inos[name] = ino
			}
		case tar.TypeLink:
			ino, ok := inos[tarName(h.Linkname)]
			if !ok {
				return fmt.Errorf("read %s: hard link %s to %s, which comes later or is not a file", file, name, h.Linkname)
			}
			err = t.w.LinkTo(name, perm, uid, gid, ino)
		case tar.TypeSymlink:
			t.dirs[name] = true // never a directory made under it
			err = t.w.Symlink(name, h.Linkname)
		case tar.TypeChar:
			if name == "dev/console" {
				err = t.w.CharDev(name, perm, uint32(h.Devmajor), uint32(h.Devminor))
			}
		}
		if err != nil {
			return fmt.Errorf("copy %s from %s: %w", name, file, err)
		}
	}
	return nil
}

// tarName is a tar entry's path without "./" and trailing slashes.
func tarName(n string) string {
	return strings.TrimPrefix(path.Clean("/"+n), "/")
}

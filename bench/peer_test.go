package bench

import (
	"fmt"
	"os/exec"
	"strings"

	"golang.org/x/sys/unix"
)

// A peer is one way of mounting the union under test.
type peer struct {
	name   string
	lowers []string // topmost first
	mount  mountFunc
	// unavailable says why this peer cannot run here ("" when it can).
	unavailable string
}

// mountFunc mounts a union on mnt and returns the FUSE server serving it,
// a running child of this process (nil for kernel overlayfs).
type mountFunc func(lowers []string, upper, work, mnt string) (*exec.Cmd, error)

// peers lists the unions compared, in the order of the report's columns.
// All but nook-tar read the rootfs and data layers as directories.
func peers(e *env) []peer {
	dirs := []string{e.dataDir, e.rootfsDir}
	ps := []peer{
		{name: "kernel-overlay", lowers: dirs, mount: kernelOverlay},
		{name: "fuse-overlayfs", lowers: dirs},
		{name: "nook-dir", lowers: dirs},
		{name: "nook-tar", lowers: e.nookTars},
	}
	if bin, err := exec.LookPath("fuse-overlayfs"); err != nil {
		ps[1].unavailable = fmt.Sprintf("fuse-overlayfs is not installed: %v", err)
	} else {
		ps[1].mount = fuseServer(bin)
	}
	if e.nookBinErr != nil {
		ps[2].unavailable = e.nookBinErr.Error()
		ps[3].unavailable = e.nookBinErr.Error()
	} else {
		ps[2].mount = fuseServer(e.nookBin)
		ps[3].mount = fuseServer(e.nookBin)
	}
	if ps[3].unavailable == "" && e.nookTarErr != nil {
		ps[3].unavailable = e.nookTarErr.Error()
	}
	return ps
}

// overlayOptions is the option string kernel overlayfs, fuse-overlayfs and
// nook-overlayfs all take.
func overlayOptions(lowers []string, upper, work string) string {
	return "lowerdir=" + strings.Join(lowers, ":") + ",upperdir=" + upper + ",workdir=" + work
}

// kernelOverlay mounts kernel overlayfs the way an unprivileged user can:
// in a user namespace, with userxattr (user.overlay.* instead of trusted.*).
func kernelOverlay(lowers []string, upper, work, mnt string) (*exec.Cmd, error) {
	opts := overlayOptions(lowers, upper, work) + ",userxattr"
	if err := unix.Mount("overlay", mnt, "overlay", 0, opts); err != nil {
		return nil, fmt.Errorf("mount overlay -o %s %s: %w", opts, mnt, err)
	}
	return nil, nil
}

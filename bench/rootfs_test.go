package bench

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// The lower layer of every union: Debian bookworm, minbase plus python3.
const (
	suite    = "bookworm"
	packages = "python3"
)

// ensureRootfsTar makes cache/rootfs.tar with mmdebstrap, run with its
// default mirror (the one apt is configured to reach).
//
// The benchmarks run as root of nstest's user namespace, so mmdebstrap's
// root mode is the one that works here whoever started the run: its unshare
// mode would look for a subordinate id range of "root". debootstrap is no
// fallback: in a user namespace it stops at its mknod check ("Cannot
// install into target ... mounted with noexec or nodev"). Device nodes are
// left out of the tar (--skip=output/dev), so the directory copy, which
// cannot hold them in a user namespace, and the indexed tar show the same
// tree.
func (e *env) ensureRootfsTar() error {
	e.rootfsTar = filepath.Join(e.cache, "rootfs.tar")
	if ok, err := done(e.rootfsTar); ok || err != nil {
		return err
	}
	mm, err := exec.LookPath("mmdebstrap")
	if err != nil {
		return fmt.Errorf("find mmdebstrap (apt-get install mmdebstrap): %w", err)
	}
	tmp := e.rootfsTar + ".tmp"
	_ = os.Remove(tmp)
	logPath := filepath.Join(e.cache, "rootfs.log")
	progress("building the Debian %s rootfs with mmdebstrap (once; log in %s)", suite, logPath)
	err = runLogged(logPath, mm, "--mode=root", "--format=tar", "--variant=minbase", "--include="+packages,
		"--skip=output/dev", suite, tmp)
	if err != nil {
		return err
	}
	return os.Rename(tmp, e.rootfsTar)
}

// ensureRootfsDir unpacks rootfs.tar into cache/rootfs for the directory
// lowers. Files keep their owners, which are subordinate ids on the host:
// remove the cache from inside a user namespace (podman unshare rm -rf).
func (e *env) ensureRootfsDir() error {
	e.rootfsDir = filepath.Join(e.cache, "rootfs")
	if ok, err := done(e.rootfsDir); ok || err != nil {
		return err
	}
	progress("unpacking the rootfs into %s (once)", e.rootfsDir)
	tmp := e.rootfsDir + ".tmp"
	if err := os.RemoveAll(tmp); err != nil {
		return fmt.Errorf("clear %s: %w", tmp, err)
	}
	if err := os.Mkdir(tmp, 0o755); err != nil {
		return err
	}
	if err := run("tar", "--numeric-owner", "--xattrs", "--xattrs-include=*", "-xpf", e.rootfsTar, "-C", tmp); err != nil {
		return err
	}
	return os.Rename(tmp, e.rootfsDir)
}

// ensureUntarSource makes cache/usr-lib.tar, the rootfs's /usr/lib (about
// 100 MB in 3,000 entries), for the untar workload.
func (e *env) ensureUntarSource() error {
	e.untarSrc = filepath.Join(e.cache, "usr-lib.tar")
	if ok, err := done(e.untarSrc); ok || err != nil {
		return err
	}
	tmp := e.untarSrc + ".tmp"
	if err := run("tar", "--numeric-owner", "-cf", tmp, "-C", e.rootfsDir, "usr/lib"); err != nil {
		return err
	}
	return os.Rename(tmp, e.untarSrc)
}

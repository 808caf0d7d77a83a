package testscripts

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/nookrun/nook/internal/nstest"
)

// probes answers the scripts' conditions, each probed once by trying the
// kernel feature itself:
//
//	[userns]        root of a user namespace with its own mount namespace
//	                (can mount a tmpfs)
//	[fuse]          /dev/fuse opens and a FUSE filesystem mounts here
//	[overlay]       kernel overlayfs mounts here with -o userxattr
//	[trustedxattr]  trusted.* xattrs can be set (real root only)
//
// A script guards what needs a feature with "[!fuse] skip". Under
// NOOK_TEST_STRICT=1 a missing kernel feature ([userns], [fuse], [overlay])
// is an error instead, so CI cannot pass by skipping. [trustedxattr] is a
// privilege, not a kernel feature: it is false for every unprivileged run and
// never an error.
type probes struct {
	once                  sync.Once
	userns, fuse, overlay error
	trustedXattr          error
}

func (p *probes) condition(cond string) (bool, error) {
	p.once.Do(p.probe)
	var err error
	switch cond {
	case "userns":
		err = p.userns
	case "fuse":
		err = p.fuse
	case "overlay":
		err = p.overlay
	case "trustedxattr":
		return p.trustedXattr == nil, nil
	default:
		return false, fmt.Errorf("unknown condition %q", cond)
	}
	if err != nil && nstest.Strict() {
		return false, fmt.Errorf("NOOK_TEST_STRICT=1 forbids skipping: [%s]: %v", cond, err)
	}
	return err == nil, nil
}

func (p *probes) probe() {
	p.userns = withTempDir(probeUserns)
	p.fuse = withTempDir(probeFUSE)
	p.overlay = withTempDir(probeOverlay)
	p.trustedXattr = withTempDir(probeTrustedXattr)
}

func withTempDir(probe func(dir string) error) error {
	dir, err := os.MkdirTemp("", "nook-probe-")
	if err != nil {
		return fmt.Errorf("make a probe directory: %w", err)
	}
	defer os.RemoveAll(dir)
	return probe(dir)
}

func probeUserns(dir string) error {
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, ""); err != nil {
		return fmt.Errorf("mount tmpfs (not root of a user+mount namespace?): %w", err)
	}
	return unix.Unmount(dir, unix.MNT_DETACH)
}

// probeFUSE mounts a FUSE filesystem that never answers and unmounts it:
// the kernel does not wait for the server at mount time.
func probeFUSE(dir string) error {
	fd, err := unix.Open("/dev/fuse", unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open /dev/fuse (distributions make it 0666): %w", err)
	}
	defer unix.Close(fd)
	opts := fmt.Sprintf("fd=%d,rootmode=40000,user_id=%d,group_id=%d", fd, os.Getuid(), os.Getgid())
	if err := unix.Mount("nook-probe", dir, "fuse.nook-probe", unix.MS_NOSUID|unix.MS_NODEV, opts); err != nil {
		return fmt.Errorf("mount FUSE: %w", err)
	}
	return unix.Unmount(dir, unix.MNT_DETACH)
}

func probeOverlay(dir string) error {
	sub := func(n string) string { return filepath.Join(dir, n) }
	for _, d := range []string{"lower", "upper", "work", "merged"} {
		if err := os.Mkdir(sub(d), 0o755); err != nil {
			return err
		}
	}
	opts := fmt.Sprintf("lowerdir=%s,upperdir=%s,workdir=%s,userxattr", sub("lower"), sub("upper"), sub("work"))
	if err := unix.Mount("overlay", sub("merged"), "overlay", 0, opts); err != nil {
		return fmt.Errorf("mount overlayfs with userxattr (kernel 5.11 or later in a user namespace): %w", err)
	}
	return unix.Unmount(sub("merged"), unix.MNT_DETACH)
}

func probeTrustedXattr(dir string) error {
	return unix.Lsetxattr(dir, "trusted.nook-probe", []byte("y"), 0)
}

package overlayfs

import (
	"errors"
	"fmt"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/nookrun/nook/internal/mountinfo"
)

// applyFlags sets the per-mount flags ro, nosuid, nodev and noexec on the
// live mount at mp with a bind remount, keeping the flags it already has (a
// remount that drops a locked flag fails). An unprivileged fusermount3
// mount already has nosuid and nodev, and cannot be remounted; only what is
// still missing is an error then. (A read-only union refuses writes with
// EROFS either way; the flag makes the kernel refuse them first and shows
// "ro" in /proc/mounts.)
func applyFlags(mp string, f MountFlags) error {
	if f == (MountFlags{}) || isFuseFD(mp) {
		return nil
	}
	// The flags come from mountinfo, not statfs(mp): the serving process
	// must not send requests to its own mount.
	cur, err := mountFlags(mp)
	if err != nil {
		return err
	}
	want := cur
	if f.ReadOnly {
		want |= unix.MS_RDONLY
	}
	if f.NoSuid {
		want |= unix.MS_NOSUID
	}
	if f.NoDev {
		want |= unix.MS_NODEV
	}
	if f.NoExec {
		want |= unix.MS_NOEXEC
	}
	if want == cur {
		return nil
	}
	if err := unix.Mount("", mp, "", unix.MS_REMOUNT|unix.MS_BIND|want, ""); err != nil {
		if errors.Is(err, unix.EPERM) && (want&^cur)&^unix.MS_RDONLY == 0 {
			return nil // read-only is enforced by the union itself
		}
		return fmt.Errorf("apply ro/nosuid/nodev/noexec to %s (mounted without them): %w", mp, err)
	}
	return nil
}

// mountFlags returns the per-mount flags of the topmost mount at mp, as
// mount(2) takes them.
func mountFlags(mp string) (uintptr, error) {
	m, ok, err := mountinfo.At(mp)
	if err != nil {
		return 0, fmt.Errorf("read mount flags of %s: %w", mp, err)
	}
	if !ok {
		return 0, fmt.Errorf("read mount flags of %s: not a mount point", mp)
	}
	var flags uintptr
	for _, o := range strings.Split(m.Options, ",") {
		switch o {
		case "ro":
			flags |= unix.MS_RDONLY
		case "nosuid":
			flags |= unix.MS_NOSUID
		case "nodev":
			flags |= unix.MS_NODEV
		case "noexec":
			flags |= unix.MS_NOEXEC
		case "noatime":
			flags |= unix.MS_NOATIME
		case "nodiratime":
			flags |= unix.MS_NODIRATIME
		case "relatime":
			flags |= unix.MS_RELATIME
		}
	}
	return flags, nil
}

package overlayfs

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/unix"
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
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return 0, fmt.Errorf("read mount flags of %s: %w", mp, err)
	}
	defer f.Close()
	var opts string
	found := false
	s := bufio.NewScanner(f)
	s.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for s.Scan() {
		// "36 35 98:0 /root /mnt rw,noatime master:1 - ext3 ..."
		fields := strings.Fields(s.Text())
		if len(fields) >= 6 && unescapeMountinfo(fields[4]) == mp {
			opts, found = fields[5], true // the last one is on top
		}
	}
	if err := s.Err(); err != nil {
		return 0, fmt.Errorf("read mount flags of %s: %w", mp, err)
	}
	if !found {
		return 0, fmt.Errorf("read mount flags of %s: not a mount point", mp)
	}
	var flags uintptr
	for _, o := range strings.Split(opts, ",") {
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

// unescapeMountinfo undoes the octal escapes (\040 for a space) that the
// kernel writes in mountinfo paths.
func unescapeMountinfo(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && isOctal(s[i+1:i+4]) {
			b.WriteByte((s[i+1]-'0')<<6 | (s[i+2]-'0')<<3 | (s[i+3] - '0'))
			i += 3
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

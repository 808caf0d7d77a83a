package run

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// mountAt mounts onto the container path target, resolved inside root.
func mountAt(root int, target string, file bool, source, fstype string, flags uintptr, data string) error {
	fd, err := ensureInRoot(root, target, file)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	if err := unix.Mount(source, fdPath(fd), fstype, flags, data); err != nil {
		return fmt.Errorf("mount %s on %s: %w", fstypeOr(fstype, source), target, err)
	}
	return nil
}

func fstypeOr(fstype, source string) string {
	if fstype != "" {
		return fstype
	}
	return source
}

// lockedFlags are the per-mount flags a user namespace may not clear on a
// mount it did not make; a read-only remount has to repeat them.
const lockedFlags = unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC | unix.MS_NOATIME | unix.MS_NODIRATIME | unix.MS_RELATIME

// remountReadOnly makes the mount at the container path target read-only.
func remountReadOnly(root int, target string) error {
	fd, err := openInRoot(root, target, unix.O_PATH)
	if err != nil {
		return fmt.Errorf("open %s in the container: %w", target, err)
	}
	defer unix.Close(fd)
	var st unix.Statfs_t
	if err := unix.Fstatfs(fd, &st); err != nil {
		return fmt.Errorf("statfs %s: %w", target, err)
	}
	flags := uintptr(st.Flags)&lockedFlags | unix.MS_BIND | unix.MS_REMOUNT | unix.MS_RDONLY
	if err := unix.Mount("", fdPath(fd), "", flags, ""); err != nil {
		return fmt.Errorf("remount %s read-only: %w", target, err)
	}
	return nil
}

// bindMount binds the host path m.Source onto m.Target.
func bindMount(root int, m Mount) error {
	src, err := unix.Open(m.Source, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open volume source %s: %w", m.Source, err)
	}
	defer unix.Close(src)
	fd, err := ensureInRoot(root, m.Target, m.File)
	if err != nil {
		return fmt.Errorf("volume %s: %w", m.Source, err)
	}
	err = unix.Mount(fdPath(src), fdPath(fd), "", unix.MS_BIND|unix.MS_REC, "")
	unix.Close(fd)
	if errors.Is(err, unix.ENOTDIR) || errors.Is(err, unix.EISDIR) {
		kind := "directory"
		if m.File {
			kind = "file"
		}
		return fmt.Errorf("mount volume %s on %s: %w: the host path is a %s and the container path is not; make both directories or both files", m.Source, m.Target, err, kind)
	}
	if err != nil {
		return fmt.Errorf("mount volume %s on %s: %w", m.Source, m.Target, err)
	}
	if m.ReadOnly {
		return remountReadOnly(root, m.Target)
	}
	return nil
}

// devices are bound from the host's /dev: a user namespace cannot mknod.
var devices = []string{"null", "zero", "full", "random", "urandom", "tty"}

// devLinks are /dev's symlinks, as Docker makes them.
var devLinks = [][2]string{
	{"/proc/self/fd", "fd"},
	{"/proc/self/fd/0", "stdin"},
	{"/proc/self/fd/1", "stdout"},
	{"/proc/self/fd/2", "stderr"},
	{"/proc/kcore", "core"},
	{"pts/ptmx", "ptmx"},
}

// mountDev builds /dev: a small tmpfs with the host's harmless devices
// bound in, a devpts of the container's own, shm and mqueue.
func mountDev(root int, gid5 bool) error {
	if err := mountAt(root, "/dev", false, "tmpfs", "tmpfs", unix.MS_NOSUID|unix.MS_STRICTATIME, "mode=755,size=65536k"); err != nil {
		return err
	}
	for _, d := range devices {
		if err := mountAt(root, "/dev/"+d, true, "/dev/"+d, "", unix.MS_BIND, ""); err != nil {
			return err
		}
	}
	dev, err := openInRoot(root, "/dev", unix.O_RDONLY|unix.O_DIRECTORY)
	if err != nil {
		return fmt.Errorf("open /dev in the container: %w", err)
	}
	defer unix.Close(dev)
	for _, l := range devLinks {
		if err := unix.Symlinkat(l[0], dev, l[1]); err != nil {
			return fmt.Errorf("link /dev/%s: %w", l[1], err)
		}
	}
	ptsData := "newinstance,ptmxmode=0666,mode=0620"
	if gid5 {
		ptsData += ",gid=5"
	}
	if err := mountAt(root, "/dev/pts", false, "devpts", "devpts", unix.MS_NOSUID|unix.MS_NOEXEC, ptsData); err != nil {
		return err
	}
	if err := mountAt(root, "/dev/shm", false, "shm", "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "mode=1777,size=65536k"); err != nil {
		return err
	}
	return mountAt(root, "/dev/mqueue", false, "mqueue", "mqueue", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "")
}

// mountSys gives the container a read-only /sys: a sysfs of its own
// network namespace, or the host's bound when it shares the host's
// (sysfs may only be mounted by the network namespace's owner).
func mountSys(root int, netns bool) error {
	if netns {
		return mountAt(root, "/sys", false, "sysfs", "sysfs", unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "")
	}
	if err := mountAt(root, "/sys", false, "/sys", "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return err
	}
	return remountReadOnly(root, "/sys")
}

// Paths of /proc and /sys hidden or made read-only, as runc's default
// spec (Docker's) has them.
var (
	maskedPaths = []string{
		"/proc/acpi", "/proc/asound", "/proc/interrupts", "/proc/kcore", "/proc/keys",
		"/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
		"/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap",
	}
	readOnlyPaths = []string{
		"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
	}
)

// maskPaths applies maskedPaths and readOnlyPaths; paths the kernel does
// not have are skipped.
func maskPaths(root int) error {
	for _, p := range maskedPaths {
		fd, err := openInRoot(root, p, unix.O_PATH)
		if errors.Is(err, unix.ENOENT) {
			continue
		}
		if err != nil {
			return fmt.Errorf("mask %s: %w", p, err)
		}
		var st unix.Stat_t
		err = unix.Fstat(fd, &st)
		if err == nil {
			if st.Mode&unix.S_IFMT == unix.S_IFDIR {
				err = unix.Mount("tmpfs", fdPath(fd), "tmpfs", unix.MS_RDONLY, "size=0")
			} else {
				err = unix.Mount("/dev/null", fdPath(fd), "", unix.MS_BIND, "")
			}
		}
		unix.Close(fd)
		if err != nil {
			return fmt.Errorf("mask %s: %w", p, err)
		}
	}
	for _, p := range readOnlyPaths {
		fd, err := openInRoot(root, p, unix.O_PATH)
		if errors.Is(err, unix.ENOENT) {
			continue
		}
		if err != nil {
			return fmt.Errorf("make %s read-only: %w", p, err)
		}
		err = unix.Mount(fdPath(fd), fdPath(fd), "", unix.MS_BIND|unix.MS_REC, "")
		unix.Close(fd)
		if err != nil {
			return fmt.Errorf("make %s read-only: %w", p, err)
		}
		if err := remountReadOnly(root, p); err != nil {
			return err
		}
	}
	return nil
}

package run

import (
	"errors"
	"fmt"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/nookrun/nook/network"
)

// fuseMountData is the mount(2) data of the union: the fd, a root of
// the union's own, owned by root of the container's user namespace;
// allow_other because the workload may run as any id there, with the
// kernel doing the permission checks.
const fuseMountData = "fd=%d,rootmode=40000,user_id=0,group_id=0,default_permissions,allow_other"

// buildContainer mounts the union and everything in it, moves into it and
// sets the hostname. It runs in stage 2, with the capabilities of root in
// the container's user namespace.
func buildContainer(ch channel, spec *childSpec) error {
	// Nothing we mount may propagate back to the host's namespace.
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make mounts private: %w", err)
	}
	iface, err := mountUnion(ch, spec.Rootfs, spec.FUSEDevice)
	if err != nil {
		return err
	}
	root, err := unix.Open(spec.Rootfs, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open the container's root: %w", err)
	}
	defer unix.Close(root)
	if err := mountAt(root, "/proc", false, "proc", "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return err
	}
	if err := mountDev(root, spec.GID5); err != nil {
		return err
	}
	if err := mountSys(root, spec.NetNS); err != nil {
		return err
	}
	if spec.CgroupNS {
		if err := mountAt(root, "/sys/fs/cgroup", false, "cgroup2", "cgroup2", unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
			return err
		}
	}
	for _, m := range spec.Mounts {
		if err := addMount(root, m); err != nil {
			return err
		}
	}
	if spec.Account != nil {
		if err := addAccount(root, filepath.Dir(spec.Rootfs), spec.Account); err != nil {
			return err
		}
	}
	if err := maskPaths(root); err != nil {
		return err
	}
	// The working directory is made as Docker makes it, in the
	// container's layer and before the root may become read-only.
	if cwd := spec.Process.Cwd; cwd != "" && cwd != "/" {
		fd, err := ensureInRoot(root, cwd, false)
		if err != nil {
			return fmt.Errorf("create working directory: %w", err)
		}
		unix.Close(fd)
	}
	if spec.ReadOnly {
		if err := remountReadOnly(root, "/"); err != nil {
			return err
		}
	}
	if err := pivotRoot(spec.Rootfs); err != nil {
		return err
	}
	if err := unix.Sethostname([]byte(spec.Hostname)); err != nil {
		return fmt.Errorf("set hostname %q: %w", spec.Hostname, err)
	}
	if spec.NetNS {
		if err := loopbackUp(); err != nil {
			return err
		}
	}
	if iface != nil {
		if err := iface.Apply(); err != nil {
			return err
		}
	}
	return nil
}

// mountUnion opens /dev/fuse here, inside the container's user namespace
// (the kernel wants the fd opened in the namespace of the mount), mounts
// it on rootfs and hands it to the monitor, which serves the union on it.
// The monitor's go-ahead brings the tap to configure, if any.
func mountUnion(ch channel, rootfs, device string) (*network.Interface, error) {
	fd, err := unix.Open(device, unix.O_RDWR|unix.O_CLOEXEC, 0)
	if errors.Is(err, unix.ENOENT) {
		return nil, fmt.Errorf("open %s: %w: the kernel has no FUSE device here (sudo modprobe fuse; sudo apt-get install fuse3)", device, err)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w: nook needs it readable and writable by you (sudo chmod 0666 %s, as the fuse3 package sets it up)", device, err, device)
	}
	defer unix.Close(fd)
	if err := unix.Mount("nook", rootfs, "fuse.nook", unix.MS_NODEV, fmt.Sprintf(fuseMountData, fd)); err != nil {
		return nil, fmt.Errorf("mount the union on %s: %w", rootfs, err)
	}
	if err := ch.send(message{Type: msgFUSE}, fd); err != nil {
		return nil, err
	}
	m, _, err := ch.expect(msgServing)
	if err != nil {
		return nil, fmt.Errorf("wait for the union: %w", err)
	}
	return m.Interface, nil
}

func addMount(root int, m Mount) error {
	switch m.Type {
	case "bind":
		return bindMount(root, m)
	case "tmpfs":
		flags := uintptr(unix.MS_NOSUID | unix.MS_NODEV)
		if m.ReadOnly {
			flags |= unix.MS_RDONLY
		}
		return mountAt(root, m.Target, false, "tmpfs", "tmpfs", flags, m.Data)
	}
	return fmt.Errorf("mount on %s: unknown type %q", m.Target, m.Type)
}

// pivotRoot makes rootfs the root and detaches the old one, so that
// nothing of the host's tree stays reachable.
func pivotRoot(rootfs string) error {
	if err := unix.Chdir(rootfs); err != nil {
		return fmt.Errorf("enter %s: %w", rootfs, err)
	}
	if err := unix.PivotRoot(".", "."); err != nil {
		return fmt.Errorf("pivot_root to %s: %w", rootfs, err)
	}
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return fmt.Errorf("detach the host's root: %w", err)
	}
	if err := unix.Chdir("/"); err != nil {
		return fmt.Errorf("enter the new root: %w", err)
	}
	return nil
}

// loopbackUp brings up lo in the container's network namespace.
func loopbackUp() error {
	s, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("bring up lo: %w", err)
	}
	defer unix.Close(s)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return fmt.Errorf("bring up lo: %w", err)
	}
	if err := unix.IoctlIfreq(s, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("bring up lo: %w", err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(s, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("bring up lo: %w", err)
	}
	return nil
}

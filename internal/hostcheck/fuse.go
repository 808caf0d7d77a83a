package hostcheck

import (
	"errors"
	"fmt"
	"os"
	"os/exec"

	"golang.org/x/sys/unix"
)

func fuseSection() Section {
	b := newSection("fuse")
	value, status, fix := devFUSE("/dev/fuse")
	b.add(status, "/dev/fuse", value, fix)
	if p, err := exec.LookPath("fusermount3"); err == nil {
		b.info("fusermount3", p)
	} else {
		b.add(Warning, "fusermount3", "not installed (nook needs it only for nook-overlayfs mounts outside a user namespace)",
			"install fuse3 (Debian/Ubuntu: sudo apt install fuse3; Fedora/RHEL: sudo dnf install fuse3)")
	}
	return b.s
}

// devFUSE opens the FUSE device read-write, as a container's child will.
func devFUSE(path string) (value string, status Status, fix string) {
	const install = "load the module and install fuse3: sudo modprobe fuse; sudo apt install fuse3 (Fedora/RHEL: sudo dnf install fuse3)"
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		if errors.Is(err, unix.ENOENT) {
			return "missing", Problem, install
		}
		return fmt.Sprintf("cannot be looked at: %v", err), Problem, install
	}
	if st.Mode&unix.S_IFMT != unix.S_IFCHR {
		return "is not a character device", Problem, "ask an admin to recreate it: sudo rm " + path + "; sudo mknod -m 0666 " + path + " c 10 229"
	}
	dev := fmt.Sprintf("character device %d:%d", unix.Major(st.Rdev), unix.Minor(st.Rdev))
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		if errors.Is(err, os.ErrPermission) {
			return dev + ", cannot be opened read-write: permission denied", Problem,
				"sudo chmod 0666 " + path + " (distributions ship it 0666; to keep it: a udev rule KERNEL==\"fuse\", MODE=\"0666\")"
		}
		return fmt.Sprintf("%s, cannot be opened read-write: %v", dev, err), Problem, install
	}
	f.Close()
	return dev + ", opens read-write", OK, ""
}

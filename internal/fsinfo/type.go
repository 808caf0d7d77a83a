package fsinfo

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// Info is what Type found about the filesystem holding a path.
type Info struct {
	// Name is the filesystem's name: "ext4", "xfs", "nfs", "lustre",
	// "fuse", or "unknown (0x...)".
	Name string `json:"name"`
	// Magic is statfs's f_type.
	Magic uint32 `json:"magic"`
	// MountType is the mount table's type for the path's device, with a
	// FUSE filesystem's subtype ("fuse.sshfs"); "" when no mount matched
	// (btrfs subvolumes, for one, have devices of their own).
	MountType string `json:"mountType,omitempty"`
	// Network is true for filesystems where a container's upper
	// directory must not live (see the package doc).
	Network bool `json:"network"`
	// Avail is the space an unprivileged user can still write, Size the
	// filesystem's size, both in bytes.
	Avail uint64 `json:"avail"`
	Size  uint64 `json:"size"`
}

// Type tells which filesystem holds path, which must exist.
func Type(path string) (Info, error) {
	var sfs unix.Statfs_t
	if err := unix.Statfs(path, &sfs); err != nil {
		return Info{}, fmt.Errorf("statfs %s: %w", path, err)
	}
	info := Info{
		Magic: uint32(sfs.Type),
		Avail: sfs.Bavail * uint64(sfs.Bsize),
		Size:  sfs.Blocks * uint64(sfs.Bsize),
	}
	info.MountType = mountType(path)
	info.Name, info.Network = classify(info.Magic, info.MountType)
	return info, nil
}

// mountType returns the mount table's type for the device holding path,
// or "" when it cannot tell: the name from the magic is enough then.
func mountType(path string) string {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return ""
	}
	ms, err := Mounts()
	if err != nil {
		return ""
	}
	maj, min := unix.Major(st.Dev), unix.Minor(st.Dev)
	// Every mount of one device has the same type; the last is the one
	// on top.
	for i := len(ms) - 1; i >= 0; i-- {
		if ms[i].Major == maj && ms[i].Minor == min {
			return ms[i].FSType
		}
	}
	return ""
}

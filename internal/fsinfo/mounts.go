package fsinfo

import "github.com/nookrun/nook/internal/mountinfo"

// Mount is one line of /proc/self/mountinfo.
type Mount = mountinfo.Mount

// Mounts lists the mounts of this process's mount namespace in mount
// order.
func Mounts() ([]Mount, error) { return mountinfo.Read() }

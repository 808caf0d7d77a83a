package cgroupdeleg

import "errors"

var (
	// ErrNotDelegated is a cgroup the user may not manage: no writable
	// cgroup.procs, cgroup.subtree_control or directory.
	ErrNotDelegated = errors.New("cgroup not delegated")
	// ErrController is a limit on a controller the delegated subtree
	// does not have.
	ErrController = errors.New("cgroup controller not available")
	// ErrNoCgroup2 is a machine without a cgroup v2 hierarchy.
	ErrNoCgroup2 = errors.New("no cgroup v2 hierarchy")
	// ErrLimit is a resource limit that makes no sense (a swap limit
	// below the memory limit, a weight out of range).
	ErrLimit = errors.New("invalid resource limit")
	// ErrNotNook is a cgroup that nook did not make, which Remove refuses
	// to touch.
	ErrNotNook = errors.New("not a container cgroup of nook")
)

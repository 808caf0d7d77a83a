package userns

import "errors"

// Sentinels, checked with errors.Is; the errors that wrap them carry the
// detail and the fix.
var (
	// ErrBadMode: a --userns value that is not one of the modes.
	ErrBadMode = errors.New("unknown user namespace mode")
	// ErrNoSubIDs: SubID was asked for but the user has no subordinate
	// uid or gid range.
	ErrNoSubIDs = errors.New("no subordinate id range")
	// ErrNoHelper: SubID was asked for but newuidmap or newgidmap is not
	// installed, or is installed without the privilege to do its job.
	ErrNoHelper = errors.New("id map helper unavailable")
	// ErrHelper: newuidmap or newgidmap ran and refused the map.
	ErrHelper = errors.New("id map helper failed")
	// ErrMapWrite: writing /proc/PID/{setgroups,uid_map,gid_map} failed.
	ErrMapWrite = errors.New("write id map")
	// ErrNoFilter: no single-id filter is known for this GOARCH.
	ErrNoFilter = errors.New("no single-id seccomp filter for this architecture")
	// ErrFilterInstall: the kernel refused the seccomp filter.
	ErrFilterInstall = errors.New("install seccomp filter")
)

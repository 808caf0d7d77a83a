package run

import "github.com/nookrun/nook/userns"

// childSpec is everything the child needs to build the container and
// start its workload. The monitor has checked it; the child trusts it.
type childSpec struct {
	// FUSEDevice is the FUSE device to open, /dev/fuse.
	FUSEDevice string `json:"fuseDevice"`
	// Rootfs is the directory the union is mounted on, a host path the
	// child's mount namespace shares.
	Rootfs string `json:"rootfs"`
	// ReadOnly mounts the root filesystem read-only.
	ReadOnly bool `json:"readOnly,omitempty"`
	// Hostname is set in the new UTS namespace.
	Hostname string `json:"hostname"`
	// NetNS is true when the container has a network namespace of its own
	// (it brings up lo and mounts a sysfs of that namespace).
	NetNS bool `json:"netns"`
	// CgroupNS is true when the container has a cgroup (and a cgroup
	// namespace rooted there): its cgroup2 is mounted read-only at
	// /sys/fs/cgroup, as Docker does, so that runtimes which size
	// themselves by their limits (the JVM, Go, .NET) see them.
	CgroupNS bool `json:"cgroupns,omitempty"`
	// Mounts are made in order after /proc, /dev and /sys.
	Mounts []Mount `json:"mounts,omitempty"`
	// Process is the workload.
	Process Process `json:"process"`
	// SingleID installs the seccomp filter that makes chown and setuid to
	// other ids succeed without effect (userns single-id mode).
	SingleID bool `json:"singleID,omitempty"`
	// GID5 is whether gid 5 (tty) is mapped, for devpts's gid= option.
	GID5 bool `json:"gid5,omitempty"`
	// Nested, for keep-id, is the user namespace the workload runs in,
	// below the container's: maps from its ids to the container's.
	Nested *nestedMaps `json:"nested,omitempty"`
	// Announce sends msgStarting just before the exec (RoleExec).
	Announce bool `json:"announce,omitempty"`
	// JoinCgroupNS: RoleExec enters the cgroup namespace at
	// execCgroupNSFD itself, which nsenter could not.
	JoinCgroupNS bool `json:"joincgroupns,omitempty"`
	// Copy is nook cp's container side (RoleExec only).
	Copy *CopyRequest `json:"copy,omitempty"`
	// Account, for keep-id, is the host user, added to the container's
	// /etc/passwd and /etc/group when the image lacks their ids.
	Account *account `json:"account,omitempty"`
}

// nestedMaps are the uid and gid maps of a nested user namespace.
type nestedMaps struct {
	UIDs []userns.Mapping `json:"uids"`
	GIDs []userns.Mapping `json:"gids"`
	// CgroupNS gives the nested user namespace a cgroup namespace of its
	// own, rooted, as the container's, at the container's cgroup (where
	// init is): only a process privileged over a cgroup namespace's owner
	// can enter it, and nook exec enters the workload's user namespace
	// first.
	CgroupNS bool `json:"cgroupns,omitempty"`
	// DenySetgroups: the container's maps were written without a helper
	// (no subordinate ids), so setgroups is denied there and in every
	// namespace below.
	DenySetgroups bool `json:"denysetgroups,omitempty"`
}

// Process describes the workload.
type Process struct {
	// Args is the command and its arguments; Args[0] is looked up in the
	// container's PATH unless it holds a slash.
	Args []string `json:"args"`
	// Env is the environment, KEY=VALUE.
	Env []string `json:"env"`
	// Cwd is the working directory inside the container; created if
	// missing, as Docker does.
	Cwd string `json:"cwd"`
	// User is name|uid[:name|gid], resolved against the container's
	// /etc/passwd and /etc/group; empty for root.
	User string `json:"user,omitempty"`
	// Tty gives the workload a pseudo-terminal of the container's own
	// devpts instance.
	Tty bool `json:"tty,omitempty"`
	// Rows and Cols are the terminal's initial size.
	Rows uint16 `json:"rows,omitempty"`
	Cols uint16 `json:"cols,omitempty"`
	// Init runs nook's init as PID 1, which starts the workload, reaps
	// zombies and forwards signals.
	Init bool `json:"init,omitempty"`
	// Rlimits are set (soft and hard) just before the workload starts:
	// the stand-ins for limits no cgroup enforces.
	Rlimits []Rlimit `json:"rlimits,omitempty"`
}

// Rlimit is one setrlimit(2) limit.
type Rlimit struct {
	// Resource is the RLIMIT_* number.
	Resource int    `json:"resource"`
	Value    uint64 `json:"value"`
}

// Mount is a filesystem mounted into the container.
type Mount struct {
	// Type is "bind" or "tmpfs".
	Type string `json:"type"`
	// Source is the host path of a bind mount.
	Source string `json:"source,omitempty"`
	// Target is the absolute path inside the container.
	Target string `json:"target"`
	// ReadOnly makes the mount read-only.
	ReadOnly bool `json:"readOnly,omitempty"`
	// Data is a tmpfs's options (size=, mode=).
	Data string `json:"data,omitempty"`
	// File is true when a bind mount's source is not a directory, so the
	// target is created as a file.
	File bool `json:"file,omitempty"`
}

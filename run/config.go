package run

import (
	"os"
	"syscall"

	"github.com/nookrun/nook/cgroupdeleg"
	"github.com/nookrun/nook/network"
	"github.com/nookrun/nook/userns"
)

// HostUser names the invoking user.
type HostUser struct {
	Name, Home string
}

// Config is one run of a container: everything the monitor needs, already
// checked by the caller (the CLI turns flags and the image into it).
type Config struct {
	// Layers are the image's indexed layer tars, bottom first (each with
	// its .idx beside it).
	Layers []string
	// LayersOpened, if set, is called once the layers are open: from then
	// on the container reads them even if they are deleted, so the caller
	// can stop holding the image store against garbage collection.
	LayersOpened func()
	// Upper and Work are the container's writable layer and the union's
	// work directory, on one filesystem.
	Upper, Work string
	// Volatile skips flushing the upper to disk (fuseunion's Volatile):
	// for a container removed when it ends (--rm), whose writes nobody
	// reads after a crash. The workload's fsync calls then return at once.
	Volatile bool
	// StateDir is the container's runtime directory: the mount point of
	// its root and the files bound to /etc.
	StateDir string
	// Hostname is the container's host name.
	Hostname string
	// Process is the workload.
	Process Process
	// StopSignal is what a SIGTERM to the monitor becomes for the
	// container (the image's StopSignal; 0 passes SIGTERM on), so that a
	// batch system stopping nook stops the workload the way it asks.
	StopSignal syscall.Signal
	// Mounts are volumes and tmpfs mounts, made in order.
	Mounts []Mount
	// ReadOnly mounts the root filesystem read-only.
	ReadOnly bool
	// Network is the container's network: its mode (the zero Mode is
	// none: a namespace of its own with only lo), driver and published
	// ports. Run attaches the driver once the container's first process
	// has its id maps and stops it when the container ends.
	Network network.Setup
	// JoinPID, when not 0, is the first process of the container whose
	// user and network namespaces this one joins (--network
	// container:NAME), which nsenter at NsenterPath enters; UserNS must
	// then be that container's plan.
	JoinPID     int
	NsenterPath string
	// Copy, when set, replaces the workload: nook cp of a stopped
	// container runs its container side as the container's first process.
	Copy *CopyRequest
	// OnPTY, if set, is called with the workload's pty master (with
	// Process.Tty) once the relay to Stdin and Stdout runs.
	OnPTY func(master *os.File)
	// Started, if set, is called with the container's first process
	// once the workload runs (for the record: others join it by it).
	Started func(pid int)
	// DNS and ExtraHosts are --dns, --dns-search, --dns-option and
	// --add-host, for the container's /etc/resolv.conf and /etc/hosts.
	DNS        network.DNS
	ExtraHosts []network.HostEntry
	// UserNS is the user namespace plan: maps, mode.
	UserNS userns.Plan
	// HostUser is the invoking user's login name and home directory:
	// keep-id gives the user that name and home inside.
	HostUser HostUser
	// Stdin is the workload's standard input; nil for /dev/null.
	Stdin *os.File
	// Stdout and Stderr are the workload's standard output and error
	// (with Process.Tty, the terminal relay's).
	Stdout, Stderr *os.File
	// FUSEDevice is the FUSE device the container opens; "" is /dev/fuse.
	FUSEDevice string
	// FUSEDebug logs every FUSE request of the union to Stderr.
	FUSEDebug bool
	// Cgroup, when set, is the container's cgroup as
	// cgroupdeleg.Delegation.Plan planned it: Run makes it, clones the
	// child straight into it (in a cgroup namespace of its own), and
	// kills what is left in it and removes it when the container ends.
	Cgroup *cgroupdeleg.Cgroup
}

// Exit is how a container ended.
type Exit struct {
	// Code is the workload's exit status, 128+N after signal N (137
	// after the OOM killer's SIGKILL).
	Code int
	// OOMKilled is true when the OOM killer killed a process of the
	// container (its cgroup's memory.events), as Docker's state says.
	OOMKilled bool
}

// hostNetwork is true when the container keeps the host's network
// namespace.
func (c *Config) hostNetwork() bool { return c.Network.Mode.Kind == network.Host }

// mapsWritten is true when the child starts with its id maps in place:
// written by os/exec before it runs, or those of a container it joins.
func (c *Config) mapsWritten() bool { return c.JoinPID != 0 || c.UserNS.Direct() }

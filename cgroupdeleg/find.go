package cgroupdeleg

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/nookrun/nook/internal/mountinfo"
)

// Source says where the delegated subtree came from.
type Source string

const (
	// SourceNone: no subtree is delegated; containers run without a cgroup.
	SourceNone Source = "none"
	// SourceOwn: nook's own cgroup, or an ancestor, is delegated.
	SourceOwn Source = "own"
	// SourceParent: --cgroup-parent names it.
	SourceParent Source = "cgroup-parent"
	// SourceSystemd: a transient scope with Delegate=yes that systemd
	// made for nook.
	SourceSystemd Source = "systemd"
	// SourceSlurm: a Slurm job's cgroup that is delegated to the user.
	SourceSlurm Source = "slurm"
)

// Options say where to look.
type Options struct {
	// Parent is --cgroup-parent: a cgroup path ("/user.slice/..."), a
	// directory under the cgroup2 mount, or a path relative to nook's own
	// cgroup. Its containers go there, and what is wrong with it is an
	// error, not a warning.
	Parent string
	// InScope says nook runs in a scope systemd made for it with
	// Delegate=yes (restarted under systemd-run, or moved by
	// StartScope): the first systemd unit above it counts as delegated
	// even when systemd is too old to mark it so.
	InScope bool
	// UID is the user's id, for the systemd user manager's unit
	// (user@UID.service); 0 means os.Getuid().
	UID int
}

// Delegation is what Find found: where containers' cgroups go, and if
// nowhere, why.
type Delegation struct {
	Hierarchy
	// Own is nook's own cgroup path.
	Own string `json:"own"`
	// Base is the cgroup path under which containers' cgroups are made;
	// "" when nothing is delegated.
	Base string `json:"base,omitempty"`
	// Source says where Base came from.
	Source Source `json:"source"`
	// Controllers are those Base can give its children (its
	// cgroup.controllers); without a Base, nook's own cgroup's.
	Controllers []string `json:"controllers"`
	// Slurm is the Slurm job nook runs in, if any.
	Slurm *SlurmJob `json:"slurm,omitempty"`
	// UserManager is true when the user's systemd manager runs: StartScope
	// can then ask it for a delegated scope.
	UserManager bool `json:"userManager,omitempty"`
	// Reason says, with the fix, why nothing is delegated ("" when Base
	// is set), or for a --cgroup-parent what is wrong with it.
	Reason string `json:"reason,omitempty"`
	// writable is false for a --cgroup-parent the user may not manage.
	writable bool
}

// Usable reports whether containers get a cgroup.
func (d *Delegation) Usable() bool { return d.Base != "" }

// BaseDir is Base's directory.
func (d *Delegation) BaseDir() string { return d.Dir(d.Base) }

// Find looks for the delegated subtree. It does not change anything and
// fails only on a --cgroup-parent it cannot resolve; otherwise a missing
// delegation is a Delegation without a Base and with a Reason.
func Find(opts Options) (*Delegation, error) {
	uid := opts.UID
	if uid == 0 {
		uid = os.Getuid()
	}
	d := &Delegation{Source: SourceNone, UserManager: userManagerRuns(uid)}
	mounts, err := mountinfo.Read()
	if err != nil {
		return nil, fmt.Errorf("find the cgroup hierarchy: %w", err)
	}
	d.Hierarchy, err = FindHierarchy(mounts)
	if err != nil {
		if opts.Parent != "" {
			return nil, fmt.Errorf("--cgroup-parent %s: %w", opts.Parent, err)
		}
		d.Reason = err.Error()
		d.Slurm = slurmFromEnv()
		return d, nil
	}
	if d.Own, err = ownCgroup(); err != nil {
		if opts.Parent != "" {
			return nil, fmt.Errorf("--cgroup-parent %s: %w", opts.Parent, err)
		}
		d.Reason = err.Error()
		return d, nil
	}
	d.Slurm = ParseSlurm(d.Own)
	if d.Slurm == nil {
		d.Slurm = slurmFromEnv()
	}
	if opts.Parent != "" {
		return d, d.useParent(opts.Parent)
	}
	base, why := d.walk(opts, uid)
	if base == "" {
		d.Controllers, _ = readControllers(d.Dir(d.Own), "cgroup.controllers")
		d.Reason = why
		return d, nil
	}
	d.Base, d.Source, d.writable = base, SourceOwn, true
	if opts.InScope {
		d.Source = SourceSystemd
	} else if d.Slurm != nil && d.Slurm.Cgroup != "" {
		d.Source = SourceSlurm
	}
	d.Controllers, err = readControllers(d.BaseDir(), "cgroup.controllers")
	if err != nil {
		return nil, fmt.Errorf("find the delegated cgroup: %w", err)
	}
	return d, nil
}

// walk goes up from nook's own cgroup while the user may manage each
// cgroup, and returns the highest one (or "" and why there is none). It
// stops below the hierarchy's root, which is the system's, and at the
// first systemd unit: one the user may write is in the tree of the
// user's systemd manager, and taken only when systemd delegated it (else
// nothing is delegated: the cgroups below it are the manager's too).
func (d *Delegation) walk(opts Options, uid int) (string, string) {
	base := ""
	for cur := d.Own; cur != "/" && cur != "" && cur != d.Root; cur = path.Dir(cur) {
		dir := d.Dir(cur)
		if !writable(dir) {
			break
		}
		if isUnit(path.Base(cur)) {
			// A unit the user may write belongs to the user's systemd
			// manager: ours only when delegated.
			if !delegateMarked(dir) && !opts.InScope {
				return "", d.notDelegated(cur, true, uid)
			}
			base = cur
			break
		}
		base = cur
	}
	if base == "" {
		return "", d.notDelegated(d.Own, false, uid)
	}
	return base, ""
}

// notDelegated says why cgroup p cannot be used, then after "; " what
// to do.
func (d *Delegation) notDelegated(p string, writableUnit bool, uid int) string {
	what := fmt.Sprintf("nook's cgroup %s is not delegated to you (its cgroup.procs and cgroup.subtree_control are not yours to write)", p)
	if p == "/" || p == d.Root {
		what = fmt.Sprintf("nook runs in the root cgroup of %s, which is the system's", d.Mount)
	} else if writableUnit {
		what = fmt.Sprintf("nook's cgroup %s is a systemd unit without Delegate=yes", p)
	}
	if d.Hybrid {
		return what + ", and this machine's cgroup hierarchy is hybrid (the controllers are in cgroup v1); for limits, boot with systemd.unified_cgroup_hierarchy=1 (ask an admin)"
	}
	switch {
	case d.Slurm != nil:
		return what + fmt.Sprintf("; in Slurm job %s the job's own limits still apply (ask the cluster's admins to delegate job cgroups for per-container limits)", d.Slurm.Job)
	case d.UserManager || inUserManager(p, uid):
		return what + "; run nook in a delegated scope: systemd-run --user --scope -p Delegate=yes nook ..."
	}
	return what + "; run nook where a cgroup is delegated to you (systemd-run --user --scope -p Delegate=yes nook ..., a service with Delegate=yes, or a batch job with delegated cgroups), or name one with --cgroup-parent"
}

// useParent makes the cgroup --cgroup-parent names the Base.
func (d *Delegation) useParent(parent string) error {
	var p string
	switch {
	case strings.HasPrefix(parent, d.Mount+"/") || parent == d.Mount:
		p, _ = d.CgroupPath(parent)
	case strings.HasPrefix(parent, "/"):
		p = path.Clean(parent)
	default:
		p = path.Join(d.Own, parent)
	}
	dir := d.Dir(p)
	st, err := os.Stat(dir)
	if err != nil || !st.IsDir() {
		return fmt.Errorf("--cgroup-parent %s: no cgroup %s (%s): %w; create it first, in a subtree delegated to you", parent, p, dir, os.ErrNotExist)
	}
	d.Base, d.Source = p, SourceParent
	d.writable = p != "/" && writable(dir)
	if !d.writable {
		d.Reason = fmt.Sprintf("--cgroup-parent %s: cgroup %s is not delegated to you (its directory, cgroup.procs and cgroup.subtree_control are not yours to write)", parent, p)
	}
	d.Controllers, err = readControllers(dir, "cgroup.controllers")
	if err != nil {
		return fmt.Errorf("--cgroup-parent %s: %w", parent, err)
	}
	return nil
}

// writable reports whether the user may make child cgroups in dir and
// move processes and enable controllers there: access(2) with the
// effective ids, without writing anything.
func writable(dir string) bool {
	for _, p := range []string{dir, filepath.Join(dir, "cgroup.procs"), filepath.Join(dir, "cgroup.subtree_control")} {
		if unix.Faccessat(unix.AT_FDCWD, p, unix.W_OK, unix.AT_EACCESS) != nil {
			return false
		}
	}
	return true
}

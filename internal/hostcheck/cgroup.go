package hostcheck

import (
	"bufio"
	"bytes"
	"os"
	"slices"
	"strings"

	"github.com/nookrun/nook/cgroupdeleg"
	"github.com/nookrun/nook/internal/fsinfo"
)

// cgroupInfo is what the cgroup probe found.
type cgroupInfo struct {
	// Hierarchy is "unified" (cgroup v2 only), "hybrid" (v2 beside v1
	// hierarchies), "legacy" (v1 only) or "none".
	Hierarchy string
	// V2Mount is where cgroup2 is mounted, "" when it is not.
	V2Mount string
	// V1Controllers are the controllers v1 hierarchies hold.
	V1Controllers []string
	// Own is nook's cgroup as /proc/self/cgroup's "0::" line names it;
	// Dir is that cgroup's directory, "" without cgroup v2.
	Own, Dir string
	// Controllers are those available in Dir (cgroup.controllers).
	Controllers []string
	// Delegated is true when cgroupdeleg.Find found a subtree delegated
	// to the user, Base: there nook makes its containers' cgroups.
	// Source says how it was found; Reason, when none was, why and the
	// fix ("what; fix").
	Delegated bool
	Base      string
	Source    string
	Reason    string
	// Slurm names the Slurm job nook runs in ("" outside one).
	Slurm string
	// UserManager is true when a systemd user manager runs (nook run
	// asks it for a delegated scope when nothing else is delegated).
	UserManager bool
	// Err says why something could not be read.
	Err string
}

// limitControllers are the controllers nook's resource limits need.
var limitControllers = []string{"cpu", "memory", "pids"}

func probeCgroup() cgroupInfo {
	mounts, err := fsinfo.Mounts()
	if err != nil {
		return cgroupInfo{Hierarchy: "none", Err: err.Error()}
	}
	self, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return cgroupInfo{Hierarchy: "none", Err: "read /proc/self/cgroup: " + err.Error()}
	}
	info := cgroupLayout(mounts, self)
	if info.Dir == "" {
		return info
	}
	d, err := cgroupdeleg.Find(cgroupdeleg.Options{})
	if err != nil {
		info.Err = err.Error()
		return info
	}
	info.Controllers = d.Controllers
	info.Delegated, info.Base, info.Source, info.Reason = d.Usable(), d.Base, string(d.Source), d.Reason
	info.UserManager = d.UserManager
	if d.Slurm != nil {
		info.Slurm = d.Slurm.Job
		if d.Slurm.Step != "" {
			info.Slurm += " step " + d.Slurm.Step
		}
	}
	return info
}

// cgroupLayout works out the hierarchy and nook's own cgroup directory
// from the mount table and /proc/self/cgroup; the cgroup2 mount is the
// one nook run uses (cgroupdeleg.FindHierarchy).
func cgroupLayout(mounts []fsinfo.Mount, self []byte) cgroupInfo {
	var info cgroupInfo
	s := bufio.NewScanner(bytes.NewReader(self))
	for s.Scan() {
		// "0::/user.slice/..." for v2, "4:memory:/..." for v1.
		parts := strings.SplitN(s.Text(), ":", 3)
		if len(parts) != 3 {
			continue
		}
		if parts[0] == "0" && parts[1] == "" {
			info.Own = parts[2]
			continue
		}
		for _, c := range strings.Split(parts[1], ",") {
			if c != "" && !strings.HasPrefix(c, "name=") {
				info.V1Controllers = append(info.V1Controllers, c)
			}
		}
	}
	slices.Sort(info.V1Controllers)
	v1 := slices.ContainsFunc(mounts, func(m fsinfo.Mount) bool { return m.FSType == "cgroup" })
	h, err := cgroupdeleg.FindHierarchy(mounts)
	switch {
	case err != nil && v1:
		info.Hierarchy = "legacy"
	case err != nil:
		info.Hierarchy = "none"
	case h.Hybrid:
		info.Hierarchy = "hybrid"
	default:
		info.Hierarchy = "unified"
	}
	if err != nil {
		return info
	}
	info.V2Mount = h.Mount
	if info.Own != "" {
		info.Dir = h.Dir(info.Own)
	}
	return info
}

func cgroupSection() Section {
	return cgroupInfoSection(probeCgroup())
}

func cgroupInfoSection(info cgroupInfo) Section {
	b := newSection("cgroups")
	const unify = "for resource limits boot with systemd.unified_cgroup_hierarchy=1 on the kernel command line (ask an admin)"
	switch info.Hierarchy {
	case "unified":
		b.ok("hierarchy", "unified (cgroup v2 only)")
	case "hybrid":
		b.add(Warning, "hierarchy", "hybrid (cgroup v2 at "+info.V2Mount+" beside v1 controllers "+strings.Join(info.V1Controllers, ", ")+")", unify)
	case "legacy":
		b.add(Warning, "hierarchy", "legacy (cgroup v1 only; nook's limits need v2)", unify)
	default:
		value := "no cgroup filesystem mounted"
		if info.Err != "" {
			value += " (" + info.Err + ")"
		}
		b.add(Warning, "hierarchy", value, "ask an admin to mount cgroup2 at /sys/fs/cgroup")
	}
	if info.Dir == "" {
		return b.s
	}
	b.info("own cgroup", info.Own+" ("+info.Dir+")")
	var missing []string
	for _, c := range limitControllers {
		if !slices.Contains(info.Controllers, c) {
			missing = append(missing, c)
		}
	}
	controllers := strings.Join(info.Controllers, " ")
	if controllers == "" {
		controllers = "none"
	}
	if len(missing) == 0 {
		b.ok("controllers", controllers)
	} else {
		fix := "ask an admin to delegate them: a drop-in /etc/systemd/system/user@.service.d/delegate.conf with [Service] Delegate=cpu cpuset io memory pids, then systemctl daemon-reload and log in again"
		if info.Hierarchy != "unified" {
			fix = unify
		}
		b.add(Warning, "controllers", controllers+" (no "+strings.Join(missing, ", ")+": --cpus, --memory and --pids-limit cannot work)", fix)
	}
	if info.Slurm != "" {
		b.info("slurm job", info.Slurm)
	}
	if info.Delegated {
		b.ok("delegated", info.Base+" ("+sourceText(info.Source)+"); containers get cgroups there")
	} else {
		what, fix, _ := strings.Cut(info.Reason, "; ")
		if info.UserManager {
			what += " (nook run asks the systemd user manager for a delegated scope)"
		}
		b.add(Warning, "delegated", "no: "+what+"; containers run without limits", fix)
	}
	return b.s
}

// sourceText says how the delegated cgroup was found.
func sourceText(s string) string {
	switch cgroupdeleg.Source(s) {
	case cgroupdeleg.SourceSlurm:
		return "the Slurm job's cgroup"
	case cgroupdeleg.SourceSystemd:
		return "a systemd scope with Delegate=yes"
	}
	return "nook's own cgroup or its delegated ancestor"
}

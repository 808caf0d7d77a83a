package hostcheck

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/sys/unix"

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
	// Delegated is true when the user may write Dir's cgroup.procs and
	// cgroup.subtree_control, i.e. may make child cgroups and move
	// processes into them.
	Delegated bool
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
	if b, err := os.ReadFile(filepath.Join(info.Dir, "cgroup.controllers")); err == nil {
		info.Controllers = strings.Fields(string(b))
	} else {
		info.Err = err.Error()
	}
	// access(2) with the effective ids: whether a write would be
	// allowed, without writing.
	writable := func(name string) bool {
		return unix.Faccessat(unix.AT_FDCWD, filepath.Join(info.Dir, name), unix.W_OK, unix.AT_EACCESS) == nil
	}
	info.Delegated = writable("cgroup.procs") && writable("cgroup.subtree_control")
	return info
}

// cgroupLayout works out the hierarchy and nook's own cgroup directory
// from the mount table and /proc/self/cgroup.
func cgroupLayout(mounts []fsinfo.Mount, self []byte) cgroupInfo {
	var info cgroupInfo
	var v2 *fsinfo.Mount
	v1 := false
	for i, m := range mounts {
		switch m.FSType {
		case "cgroup2":
			// The first one under /sys/fs/cgroup is the system's; others
			// are containers' or test mounts.
			if v2 == nil || !strings.HasPrefix(v2.Point, "/sys/fs/cgroup") && strings.HasPrefix(m.Point, "/sys/fs/cgroup") {
				v2 = &mounts[i]
			}
		case "cgroup":
			v1 = true
		}
	}
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
	switch {
	case v2 != nil && v1:
		info.Hierarchy = "hybrid"
	case v2 != nil:
		info.Hierarchy = "unified"
	case v1:
		info.Hierarchy = "legacy"
	default:
		info.Hierarchy = "none"
	}
	if v2 == nil {
		return info
	}
	info.V2Mount = v2.Point
	if info.Own != "" {
		// The mount shows the hierarchy from its root down (a cgroup
		// namespace's root, in a container).
		rel := info.Own
		if v2.Root != "/" {
			rel = strings.TrimPrefix(rel, v2.Root)
		}
		info.Dir = filepath.Join(v2.Point, rel)
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
		fix := "ask an admin to delegate them to users (systemd: Delegate=yes in user@.service)"
		if info.Hierarchy != "unified" {
			fix = unify
		}
		b.add(Warning, "controllers", controllers+" (no "+strings.Join(missing, ", ")+": --cpus, --memory and --pids-limit cannot work)", fix)
	}
	if info.Delegated {
		b.ok("delegated", "yes (cgroup.procs and cgroup.subtree_control are writable)")
	} else {
		b.add(Warning, "delegated", "no (cannot write cgroup.procs and cgroup.subtree_control of "+info.Dir+"; containers run without limits)",
			"run nook in a delegated scope: systemd-run --user --scope -p Delegate=yes nook ..., or under a batch system that delegates cgroups")
	}
	return b.s
}

package cgroupdeleg

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/nookrun/nook/internal/mountinfo"
)

// Hierarchy is the cgroup v2 hierarchy as this process sees it.
type Hierarchy struct {
	// Mount is where cgroup2 is mounted: /sys/fs/cgroup on a unified
	// host, /sys/fs/cgroup/unified on a hybrid one.
	Mount string `json:"mount"`
	// Root is the cgroup the mount shows at Mount: "/", except for a
	// mount made outside this process's cgroup namespace.
	Root string `json:"root"`
	// Hybrid is true when cgroup v1 hierarchies are mounted beside it
	// (they hold the controllers v2 then lacks).
	Hybrid bool `json:"hybrid,omitempty"`
}

// Dir is the directory of the cgroup at path p ("/user.slice/...", as
// /proc/self/cgroup names cgroups).
func (h Hierarchy) Dir(p string) string {
	rel := p
	if h.Root != "/" && h.Root != "" {
		rel = strings.TrimPrefix(p, h.Root)
	}
	return filepath.Join(h.Mount, rel)
}

// CgroupPath is the cgroup path of the directory dir under Mount, and
// whether dir is in the hierarchy at all.
func (h Hierarchy) CgroupPath(dir string) (string, bool) {
	dir = filepath.Clean(dir)
	rel, err := filepath.Rel(h.Mount, dir)
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return "", false
	}
	root := h.Root
	if root == "" {
		root = "/"
	}
	return path.Join(root, rel), true
}

// FindHierarchy picks the system's cgroup2 mount from the mount table:
// the first one under /sys/fs/cgroup (others are containers' or tests'
// mounts), else the first one anywhere. Without one the error wraps
// ErrNoCgroup2.
func FindHierarchy(mounts []mountinfo.Mount) (Hierarchy, error) {
	var v2 *mountinfo.Mount
	v1 := false
	for i, m := range mounts {
		switch m.FSType {
		case "cgroup2":
			if v2 == nil || !strings.HasPrefix(v2.Point, "/sys/fs/cgroup") && strings.HasPrefix(m.Point, "/sys/fs/cgroup") {
				v2 = &mounts[i]
			}
		case "cgroup":
			v1 = true
		}
	}
	if v2 == nil {
		if v1 {
			return Hierarchy{}, fmt.Errorf("%w: only cgroup v1 is mounted (boot with systemd.unified_cgroup_hierarchy=1 for resource limits; ask an admin)", ErrNoCgroup2)
		}
		return Hierarchy{}, fmt.Errorf("%w: no cgroup filesystem is mounted", ErrNoCgroup2)
	}
	return Hierarchy{Mount: v2.Point, Root: v2.Root, Hybrid: v1}, nil
}

// parseOwnCgroup reads a process's cgroup v2 path from the contents of
// /proc/PID/cgroup: its "0::PATH" line. (A v1 line is "N:CONTROLLERS:PATH".)
func parseOwnCgroup(b []byte) (string, error) {
	s := bufio.NewScanner(bytes.NewReader(b))
	for s.Scan() {
		line := s.Text()
		if p, ok := strings.CutPrefix(line, "0::"); ok {
			if !strings.HasPrefix(p, "/") {
				return "", fmt.Errorf("read own cgroup: unexpected path %q", p)
			}
			// "/foo (deleted)" is a cgroup removed under us.
			return strings.TrimSuffix(p, " (deleted)"), nil
		}
	}
	return "", fmt.Errorf("read own cgroup: %w: no 0:: line in /proc/self/cgroup", ErrNoCgroup2)
}

// ownCgroup is this process's cgroup v2 path.
func ownCgroup() (string, error) {
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return "", fmt.Errorf("read own cgroup: %w", err)
	}
	return parseOwnCgroup(b)
}

// readControllers reads a cgroup's cgroup.controllers (or
// cgroup.subtree_control): the controller names.
func readControllers(dir, file string) ([]string, error) {
	b, err := os.ReadFile(filepath.Join(dir, file))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", filepath.Join(dir, file), err)
	}
	return strings.Fields(string(b)), nil
}

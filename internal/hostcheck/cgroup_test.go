package hostcheck

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nookrun/nook/internal/fsinfo"
)

// TestCgroupOnThisMachine compares the probe with what statfs says of
// /sys/fs/cgroup: cgroup2 there is the unified hierarchy; a tmpfs there
// holds v1 hierarchies, and a cgroup2 at /sys/fs/cgroup/unified beside
// them makes the hierarchy hybrid (this machine: v2 with only hugetlb).
func TestCgroupOnThisMachine(t *testing.T) {
	info := probeCgroup()
	t.Logf("%+v", info)
	var top, unified unix.Statfs_t
	if err := unix.Statfs("/sys/fs/cgroup", &top); err != nil {
		t.Skipf("no /sys/fs/cgroup here: %v", err)
	}
	haveUnified := unix.Statfs("/sys/fs/cgroup/unified", &unified) == nil && unified.Type == unix.CGROUP2_SUPER_MAGIC
	var want, mount string
	switch {
	case top.Type == unix.CGROUP2_SUPER_MAGIC:
		want, mount = "unified", "/sys/fs/cgroup"
	case haveUnified:
		want, mount = "hybrid", "/sys/fs/cgroup/unified"
	default:
		want = "legacy"
	}
	if info.Hierarchy != want || info.V2Mount != mount {
		t.Fatalf("hierarchy %q with v2 at %q, want %q at %q", info.Hierarchy, info.V2Mount, want, mount)
	}
	if mount == "" {
		return
	}
	self, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(self), "0::"+info.Own+"\n") {
		t.Errorf("own cgroup %q is not /proc/self/cgroup's 0:: line:\n%s", info.Own, self)
	}
	b, err := os.ReadFile(filepath.Join(info.Dir, "cgroup.controllers"))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(info.Controllers, strings.Fields(string(b))) {
		t.Errorf("controllers %q, want %q", info.Controllers, b)
	}
	if want == "hybrid" && slices.Contains(info.Controllers, "memory") {
		t.Logf("note: hybrid hierarchy with memory in v2")
	}
	// Delegated as cgroupdeleg finds it: never the hierarchy's root (the
	// system's), else a cgroup the user may manage.
	if info.Delegated && (info.Base == "/" || info.Base == "") {
		t.Errorf("delegated base %q", info.Base)
	}
	if !info.Delegated && info.Reason == "" {
		t.Error("not delegated, and no reason")
	}
	s := cgroupInfoSection(info)
	r := Report{Sections: []Section{s}}
	if c, _ := r.Check("cgroups", "hierarchy"); want == "hybrid" && (c.Status != Warning || !strings.Contains(c.Fix, "systemd.unified_cgroup_hierarchy=1")) {
		t.Errorf("hierarchy check %+v, want a warning naming the boot option", c)
	}
}

func TestCgroupLayout(t *testing.T) {
	m := func(root, point, typ string) fsinfo.Mount { return fsinfo.Mount{Root: root, Point: point, FSType: typ} }
	for _, tc := range []struct {
		name          string
		mounts        []fsinfo.Mount
		self          string
		hierarchy     string
		dir           string
		v1Controllers []string
	}{
		{"unified", []fsinfo.Mount{m("/", "/", "ext4"), m("/", "/sys/fs/cgroup", "cgroup2")},
			"0::/user.slice/user-1000.slice/session-2.scope\n", "unified", "/sys/fs/cgroup/user.slice/user-1000.slice/session-2.scope", nil},
		{"hybrid", []fsinfo.Mount{m("/", "/sys/fs/cgroup", "tmpfs"), m("/", "/sys/fs/cgroup/unified", "cgroup2"),
			m("/", "/sys/fs/cgroup/memory", "cgroup"), m("/", "/sys/fs/cgroup/systemd", "cgroup")},
			"2:name=systemd:/user.slice\n1:memory,hugetlb:/user.slice\n0::/user.slice/x\n", "hybrid", "/sys/fs/cgroup/unified/user.slice/x", []string{"hugetlb", "memory"}},
		{"legacy", []fsinfo.Mount{m("/", "/sys/fs/cgroup/cpu,cpuacct", "cgroup")},
			"3:cpu,cpuacct:/\n", "legacy", "", []string{"cpu", "cpuacct"}},
		{"none", nil, "", "none", "", nil},
		{"container with a cgroup namespace view", []fsinfo.Mount{m("/docker/abc", "/sys/fs/cgroup", "cgroup2"), m("/", "/mnt/other", "cgroup2")},
			"0::/docker/abc/inner\n", "unified", "/sys/fs/cgroup/inner", nil},
	} {
		info := cgroupLayout(tc.mounts, []byte(tc.self))
		if info.Hierarchy != tc.hierarchy || info.Dir != tc.dir || !slices.Equal(info.V1Controllers, tc.v1Controllers) {
			t.Errorf("%s: %+v, want %s, dir %q, v1 %q", tc.name, info, tc.hierarchy, tc.dir, tc.v1Controllers)
		}
	}
}

func TestCgroupSectionDelegated(t *testing.T) {
	r := Report{Sections: []Section{cgroupInfoSection(cgroupInfo{Hierarchy: "unified", V2Mount: "/sys/fs/cgroup",
		Own: "/a", Dir: "/sys/fs/cgroup/a", Controllers: []string{"cpu", "io", "memory", "pids"}, Delegated: true, Base: "/a", Source: "own"})}}
	r.finish()
	if r.Warnings != 0 || !r.CanRun {
		t.Errorf("a delegated unified hierarchy with all controllers gave %d warnings: %+v", r.Warnings, r.Sections)
	}
}

func TestCgroupSectionNotDelegated(t *testing.T) {
	r := Report{Sections: []Section{cgroupInfoSection(cgroupInfo{Hierarchy: "unified", V2Mount: "/sys/fs/cgroup",
		Own: "/user.slice/user-1000.slice/session-2.scope", Dir: "/sys/fs/cgroup/user.slice/user-1000.slice/session-2.scope",
		Controllers: []string{"cpu", "memory", "pids"}, Slurm: "42 step 0",
		Reason: "nook's cgroup /x is not delegated to you; run nook in a delegated scope: systemd-run --user --scope -p Delegate=yes nook ..."})}}
	c, _ := r.Check("cgroups", "delegated")
	if c.Status != Warning || !strings.HasPrefix(c.Value, "no: nook's cgroup /x is not delegated to you") || !strings.HasPrefix(c.Fix, "run nook in a delegated scope") {
		t.Errorf("delegated check %+v", c)
	}
	if c, _ := r.Check("cgroups", "slurm job"); c.Value != "42 step 0" {
		t.Errorf("slurm check %+v", c)
	}
}

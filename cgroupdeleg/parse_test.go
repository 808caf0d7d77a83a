package cgroupdeleg

import (
	"slices"
	"testing"

	"github.com/nookrun/nook/internal/mountinfo"
)

func TestParseOwnCgroup(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"0::/user.slice/user-1000.slice/session-2.scope\n", "/user.slice/user-1000.slice/session-2.scope", true},
		{"12:memory:/x\n1:name=systemd:/\n0::/\n", "/", true},
		{"0::/system.slice/slurmstepd.scope/job_42/step_0/user/task_0\n", "/system.slice/slurmstepd.scope/job_42/step_0/user/task_0", true},
		{"0::/gone (deleted)\n", "/gone", true},
		{"4:memory:/a\n3:cpu,cpuacct:/\n", "", false},
		{"", "", false},
		{"0::relative\n", "", false},
	} {
		got, err := parseOwnCgroup([]byte(tc.in))
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("parseOwnCgroup(%q) = %q, %v; want %q, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestFindHierarchy(t *testing.T) {
	m := func(root, point, typ string) mountinfo.Mount {
		return mountinfo.Mount{Root: root, Point: point, FSType: typ}
	}
	for _, tc := range []struct {
		name   string
		mounts []mountinfo.Mount
		want   Hierarchy
		ok     bool
	}{
		{"unified", []mountinfo.Mount{m("/", "/", "ext4"), m("/", "/sys/fs/cgroup", "cgroup2")}, Hierarchy{Mount: "/sys/fs/cgroup", Root: "/"}, true},
		{"hybrid", []mountinfo.Mount{m("/", "/sys/fs/cgroup", "tmpfs"), m("/", "/sys/fs/cgroup/memory", "cgroup"), m("/", "/sys/fs/cgroup/unified", "cgroup2")},
			Hierarchy{Mount: "/sys/fs/cgroup/unified", Root: "/", Hybrid: true}, true},
		{"a test's mount first", []mountinfo.Mount{m("/", "/tmp/x", "cgroup2"), m("/", "/sys/fs/cgroup", "cgroup2")}, Hierarchy{Mount: "/sys/fs/cgroup", Root: "/"}, true},
		{"cgroup namespace view", []mountinfo.Mount{m("/docker/abc", "/sys/fs/cgroup", "cgroup2")}, Hierarchy{Mount: "/sys/fs/cgroup", Root: "/docker/abc"}, true},
		{"legacy", []mountinfo.Mount{m("/", "/sys/fs/cgroup/cpu", "cgroup")}, Hierarchy{}, false},
		{"none", nil, Hierarchy{}, false},
	} {
		got, err := FindHierarchy(tc.mounts)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("%s: %+v, %v; want %+v, ok %v", tc.name, got, err, tc.want, tc.ok)
		}
	}
}

func TestHierarchyPaths(t *testing.T) {
	h := Hierarchy{Mount: "/sys/fs/cgroup", Root: "/"}
	if got := h.Dir("/user.slice/a"); got != "/sys/fs/cgroup/user.slice/a" {
		t.Errorf("Dir = %q", got)
	}
	if got, ok := h.CgroupPath("/sys/fs/cgroup/user.slice/a/"); !ok || got != "/user.slice/a" {
		t.Errorf("CgroupPath = %q, %v", got, ok)
	}
	if _, ok := h.CgroupPath("/sys/fs/cgroupx/a"); ok {
		t.Error("CgroupPath accepted a directory outside the mount")
	}
	ns := Hierarchy{Mount: "/sys/fs/cgroup", Root: "/docker/abc"}
	if got := ns.Dir("/docker/abc/inner"); got != "/sys/fs/cgroup/inner" {
		t.Errorf("Dir in a namespace view = %q", got)
	}
	if got, _ := ns.CgroupPath("/sys/fs/cgroup/inner"); got != "/docker/abc/inner" {
		t.Errorf("CgroupPath in a namespace view = %q", got)
	}
}

func TestParseSlurm(t *testing.T) {
	for _, tc := range []struct {
		path string
		want *SlurmJob
	}{
		{"/system.slice/slurmstepd.scope/job_42/step_0/user/task_0", &SlurmJob{Job: "42", Step: "0", Cgroup: "/system.slice/slurmstepd.scope/job_42"}},
		{"/system.slice/node1_slurmstepd.scope/job_7/step_batch/user/task_0", &SlurmJob{Job: "7", Step: "batch", Cgroup: "/system.slice/node1_slurmstepd.scope/job_7"}},
		{"/system.slice/slurmstepd.scope/job_3385/step_extern/slurm", &SlurmJob{Job: "3385", Step: "extern", Cgroup: "/system.slice/slurmstepd.scope/job_3385"}},
		{"/system.slice/slurmstepd.scope/s5K1KKYAYG5D00/step_interactive/user/task_0", &SlurmJob{Job: "s5K1KKYAYG5D00", Step: "interactive", Cgroup: "/system.slice/slurmstepd.scope/s5K1KKYAYG5D00"}},
		{"/slurm/uid_2101/job_280678/step_0", &SlurmJob{Job: "280678", Step: "0", Cgroup: "/slurm/uid_2101/job_280678"}},
		{"/system.slice/slurmstepd.scope/job_9", &SlurmJob{Job: "9", Cgroup: "/system.slice/slurmstepd.scope/job_9"}},
		{"/user.slice/user-1000.slice/session-2.scope", nil},
		{"/", nil},
		{"/job_", nil},
	} {
		got := ParseSlurm(tc.path)
		if (got == nil) != (tc.want == nil) || got != nil && *got != *tc.want {
			t.Errorf("ParseSlurm(%q) = %+v, want %+v", tc.path, got, tc.want)
		}
	}
}

func TestUnitNames(t *testing.T) {
	for name, want := range map[string]bool{
		"user.slice": true, "session-2.scope": true, "user@1000.service": true,
		"leaf": false, "job_42": false, "nook-abc": false, "payload": false,
	} {
		if isUnit(name) != want {
			t.Errorf("isUnit(%q) = %v", name, !want)
		}
	}
	if !inUserManager("/user.slice/user-1000.slice/user@1000.service/app.slice/x.scope", 1000) {
		t.Error("a cgroup in user@1000.service is not seen in the user manager's tree")
	}
	if inUserManager("/user.slice/user-1000.slice/session-2.scope", 1000) || inUserManager("/user.slice/user-1000.slice/user@10000.service", 1000) {
		t.Error("a cgroup outside user@1000.service is seen in its tree")
	}
}

func TestKeyValues(t *testing.T) {
	events := []byte("low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\noom_group_kill 0\n")
	if n, ok := keyValue(events, "oom_kill"); !ok || n != 1 {
		t.Errorf("oom_kill = %d, %v", n, ok)
	}
	if _, ok := keyValue(events, "oom_kil"); ok {
		t.Error("a prefix of a key matched")
	}
	r, w := ioBytes([]byte("1:0 rbytes=4194304 wbytes=0 rios=1024 wios=0 dbytes=0 dios=0\n8:0 rbytes=1 wbytes=2 rios=1 wios=1\n\n"))
	if r != 4194305 || w != 2 {
		t.Errorf("io.stat bytes = %d, %d", r, w)
	}
}

func TestControllersMissing(t *testing.T) {
	l := Limits{Memory: 64 << 20, MemorySwap: -1, PidsLimit: 50, NanoCPUs: 5e8}
	ctrls, flags := missing(l.requests(), []string{"cpu", "hugetlb"})
	if !slices.Equal(ctrls, []string{"memory", "pids"}) || !slices.Equal(flags["memory"], []string{"--memory", "--memory-swap"}) {
		t.Errorf("missing = %q, %q", ctrls, flags)
	}
}

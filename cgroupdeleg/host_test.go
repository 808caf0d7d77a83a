package cgroupdeleg

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestFindOnThisMachine runs Find for real. Where nothing is delegated
// (this project's development machines: a hybrid hierarchy, nook in its
// root cgroup) it must say why, with a fix; where something is, the base
// must be a cgroup the user can manage, at or above nook's own.
func TestFindOnThisMachine(t *testing.T) {
	d, err := Find(Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", d)
	if !d.Usable() {
		if d.Reason == "" || d.Source != SourceNone {
			t.Errorf("no base, source %q, and no reason", d.Source)
		}
		if d.Hybrid && !strings.Contains(d.Reason, "systemd.unified_cgroup_hierarchy=1") {
			t.Errorf("hybrid hierarchy, but the reason does not say how to unify it: %s", d.Reason)
		}
		return
	}
	if !writable(d.BaseDir()) {
		t.Errorf("base %s is not writable", d.BaseDir())
	}
	if d.Own != d.Base && !strings.HasPrefix(d.Own, d.Base+"/") {
		t.Errorf("base %s is not nook's cgroup %s or above it", d.Base, d.Own)
	}
	if d.Base == "/" {
		t.Error("the root cgroup was taken as delegated")
	}
}

// TestNoDelegationWarning is the warning path: containers still run, the
// warning names each limit not enforced, RLIMIT_NPROC stands in for
// --pids-limit and RLIMIT_AS for --memory when asked.
func TestNoDelegationWarning(t *testing.T) {
	d, err := Find(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if d.Usable() {
		// Plan the same on a delegation that has nothing.
		d = &Delegation{Source: SourceNone, Reason: "test"}
	}
	l := Limits{Memory: 64 << 20, NanoCPUs: 5e8, PidsLimit: 50}
	p, err := d.Plan("x", l, false)
	if err != nil {
		t.Fatal(err)
	}
	if p.Cgroup != nil {
		t.Fatal("a cgroup without delegation")
	}
	want := "--memory, --cpus not enforced: no cgroup is delegated to nook here ('nook info' says why); applying --pids-limit as RLIMIT_NPROC instead (--memory-rlimit applies --memory as RLIMIT_AS)"
	if p.Warning != want {
		t.Errorf("warning\n%s\nwant\n%s", p.Warning, want)
	}
	if want := []Rlimit{{unix.RLIMIT_NPROC, "nproc", 50}}; !reflect.DeepEqual(p.Rlimits, want) {
		t.Errorf("rlimits %+v, want %+v", p.Rlimits, want)
	}
	p, err = d.Plan("x", l, true)
	if err != nil {
		t.Fatal(err)
	}
	if want := []Rlimit{{unix.RLIMIT_AS, "as", 64 << 20}, {unix.RLIMIT_NPROC, "nproc", 50}}; !reflect.DeepEqual(p.Rlimits, want) {
		t.Errorf("rlimits with memoryRlimit %+v, want %+v", p.Rlimits, want)
	}
	if !strings.HasPrefix(p.Warning, "--cpus not enforced: ") || !strings.Contains(p.Warning, "--memory as RLIMIT_AS") {
		t.Errorf("warning with memoryRlimit: %s", p.Warning)
	}
	// Nothing asked, nothing to warn about.
	if p, err := d.Plan("x", Limits{}, false); err != nil || p.Warning != "" || p.Rlimits != nil {
		t.Errorf("no limits: %+v, %v", p, err)
	}
	// A bad limit is an error, delegated or not.
	if _, err := d.Plan("x", Limits{MemorySwap: 1 << 30}, false); !errors.Is(err, ErrLimit) {
		t.Errorf("--memory-swap alone: %v", err)
	}
}

// TestParentErrors names the hierarchy's root with --cgroup-parent, for
// real: a limit on a controller the root does not offer its children
// (on a hybrid machine, memory lives in cgroup v1) is an error naming
// the controller and the fix; with the controllers there, the root is
// still not the user's to manage.
func TestParentErrors(t *testing.T) {
	d, err := Find(Options{Parent: "/"})
	if errors.Is(err, ErrNoCgroup2) {
		t.Skipf("no cgroup v2 here: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if d.Source != SourceParent || d.Base != "/" {
		t.Fatalf("--cgroup-parent / gave %+v", d)
	}
	absent := ""
	for _, c := range []string{"memory", "pids", "cpu", "io", "cpuset"} {
		if !slices.Contains(d.Controllers, c) {
			absent = c
			break
		}
	}
	l := map[string]Limits{
		"memory": {Memory: 64 << 20}, "pids": {PidsLimit: 5}, "cpu": {NanoCPUs: 5e8},
		"io": {BlkioWeight: 100}, "cpuset": {CPUSetCPUs: "0"},
	}
	if absent != "" {
		_, err := d.Plan("x", l[absent], false)
		if !errors.Is(err, ErrController) {
			t.Fatalf("a limit on %s, which %s lacks: %v", absent, d.Mount, err)
		}
		msg := err.Error()
		for _, want := range []string{"needs the " + absent + " controller", "cgroup / does not have"} {
			if !strings.Contains(msg, want) {
				t.Errorf("error %q does not say %q", msg, want)
			}
		}
		if fix := "systemd.unified_cgroup_hierarchy=1"; d.Hybrid && !strings.Contains(msg, fix) {
			t.Errorf("error %q on a hybrid machine does not say %q", msg, fix)
		}
		if fix := "Delegate=cpu cpuset io memory pids"; !d.Hybrid && !strings.Contains(msg, fix) {
			t.Errorf("error %q does not name the systemd drop-in", msg)
		}
		t.Log(msg)
	}
	if os.Geteuid() != 0 {
		if _, err := d.Plan("x", Limits{}, false); !errors.Is(err, ErrNotDelegated) {
			t.Errorf("the root cgroup as parent: %v, want ErrNotDelegated", err)
		}
	}
	if _, err := Find(Options{Parent: "/nook-no-such-cgroup"}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a missing parent: %v", err)
	}
}

// TestWalkStopsAtUnits builds a hierarchy of plain directories to check
// how far up Find's walk goes: to the highest cgroup the user may manage,
// never past a systemd unit that systemd did not delegate, never to the
// root. (Writability is the user's real access to these directories.)
func TestWalkStopsAtUnits(t *testing.T) {
	root := t.TempDir()
	dirs := []struct {
		path string
		mine bool
	}{
		{"user.slice", false}, {"user.slice/user-1000", true}, {"user.slice/user-1000/payload", true},
		{"user.slice/user-1000.slice", false}, {"user.slice/user-1000.slice/user@1000.service", true},
		{"user.slice/user-1000.slice/user@1000.service/app.slice", true},
		{"user.slice/user-1000.slice/user@1000.service/app.slice/x.scope", true},
		{"user.slice/user-1000.slice/user@1000.service/app.slice/x.scope/leaf", true},
		{"job_1", true}, {"job_1/step_0", false}, {"job_1/step_0/user", true}, {"job_1/step_0/user/task_0", true},
	}
	for _, c := range dirs {
		dir := filepath.Join(root, c.path)
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{"cgroup.procs", "cgroup.subtree_control"} {
			os.WriteFile(filepath.Join(dir, f), nil, 0o644)
		}
	}
	// Made read-only once everything below them exists.
	for _, c := range dirs {
		if !c.mine {
			for _, f := range []string{"cgroup.procs", "cgroup.subtree_control", ""} {
				os.Chmod(filepath.Join(root, c.path, f), 0o555)
			}
		}
	}
	t.Cleanup(func() {
		filepath.WalkDir(root, func(p string, e os.DirEntry, err error) error {
			os.Chmod(p, 0o755)
			return nil
		})
	})
	root0 := os.Geteuid() == 0
	h := Hierarchy{Mount: root, Root: "/"}
	for _, tc := range []struct {
		own     string
		inScope bool
		want    string
	}{
		{"/user.slice/user-1000/payload", false, "/user.slice/user-1000"},
		{"/user.slice/user-1000.slice/user@1000.service/app.slice/x.scope/leaf", false, ""},
		{"/user.slice/user-1000.slice/user@1000.service/app.slice/x.scope/leaf", true, "/user.slice/user-1000.slice/user@1000.service/app.slice/x.scope"},
		{"/job_1/step_0/user/task_0", false, "/job_1/step_0/user"},
	} {
		if root0 {
			// Root may write everything: user.slice stops the walk as
			// a unit systemd did not delegate, and job_1 is taken.
			switch tc.own {
			case "/user.slice/user-1000/payload":
				tc.want = ""
			case "/job_1/step_0/user/task_0":
				tc.want = "/job_1"
			}
		}
		d := &Delegation{Hierarchy: h, Own: tc.own}
		got, why := d.walk(Options{InScope: tc.inScope}, 1000)
		if got != tc.want || (got == "") != (why != "") {
			t.Errorf("walk from %s (in scope %v) = %q (%s), want %q", tc.own, tc.inScope, got, why, tc.want)
		}
	}
}

// TestSystemdWithoutSystemd: without a session bus or a user manager,
// StartScope says so (ErrNoSystemd), and Resolve keeps the reason.
func TestSystemdWithoutSystemd(t *testing.T) {
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")
	if _, err := StartScope(context.Background()); !errors.Is(err, ErrNoSystemd) {
		t.Errorf("StartScope without systemd: %v", err)
	}
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path="+filepath.Join(t.TempDir(), "nobus"))
	_, err := StartScope(context.Background())
	if !errors.Is(err, ErrNoSystemd) || !strings.Contains(err.Error(), "session bus unix:path=") {
		t.Errorf("StartScope with a dead bus address: %v", err)
	}
	if userManagerRuns(os.Getuid()) {
		t.Error("a user manager seen in an empty runtime directory")
	}
}

// TestSystemdRunArgv is the fallback's command line: systemd-run execs
// nook again in a delegated scope, with nook's own arguments.
func TestSystemdRunArgv(t *testing.T) {
	bin := t.TempDir()
	fake := filepath.Join(bin, "systemd-run")
	if err := os.WriteFile(fake, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin)
	got, err := SystemdRunArgv("/usr/bin/nook", []string{"run", "--memory", "64m", "busybox"})
	want := []string{fake, "--user", "--scope", "--quiet", "--collect", "--property=Delegate=yes", "--description=nook containers", "--",
		"/usr/bin/nook", "run", "--memory", "64m", "busybox"}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("argv %q, %v; want %q", got, err, want)
	}
	t.Setenv("PATH", t.TempDir())
	if _, err := SystemdRunArgv("/usr/bin/nook", nil); !errors.Is(err, ErrNoSystemd) {
		t.Errorf("without systemd-run: %v", err)
	}
}

// TestScopeRequest is what StartTransientUnit is sent.
func TestScopeRequest(t *testing.T) {
	name, err := scopeName()
	if err != nil || !strings.HasPrefix(name, "nook-") || !strings.HasSuffix(name, ".scope") || !isUnit(name) {
		t.Errorf("scope name %q, %v", name, err)
	}
	props := map[string]any{}
	for _, p := range scopeProperties(42) {
		props[p.Name] = p.Value.Value()
	}
	if !reflect.DeepEqual(props["PIDs"], []uint32{42}) || props["Delegate"] != true || props["CollectMode"] != "inactive-or-failed" {
		t.Errorf("scope properties %v", props)
	}
}

func TestRemoveStaleRefuses(t *testing.T) {
	dir := t.TempDir()
	id := strings.Repeat("ab", 32)
	for _, p := range []string{filepath.Join(dir, "other"), filepath.Join(dir, "nook-xyz"), filepath.Join(dir, cgroupPrefix+id)} {
		os.Mkdir(p, 0o755)
		if err := RemoveStale(p); !errors.Is(err, ErrNotNook) {
			t.Errorf("RemoveStale(%s): %v, want ErrNotNook", p, err)
		}
		if _, err := os.Stat(p); err != nil {
			t.Errorf("RemoveStale removed %s", p)
		}
	}
	if err := RemoveStale(filepath.Join(dir, "gone", cgroupPrefix+id)); err != nil {
		t.Errorf("a cgroup already gone: %v", err)
	}
}

//go:build vmtest

// These tests need a systemd user manager with Delegate=yes and a cgroup
// of nook's that is not delegated: make vmtest's systemd VM (go run
// ./vmtest -systemd, which sets NOOK_VMTEST_SYSTEMD=1 and runs only the
// tests of *systemd_vmtest_test.go files). There they run as uid 1000
// from a cgroup of a system service, with the user's session bus.

package cgroupdeleg

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nookrun/nook/image/imagetest"
	"github.com/nookrun/nook/internal/nstest"
)

// envHelper makes the test binary a helper process (TestMain): it moves
// itself into a scope, and the test process must stay where it is.
const envHelper = "NOOK_VMTEST_SCOPE_HELPER"

// helperResult is what a helper found, as JSON on its stdout.
type helperResult struct {
	Delegation *Delegation `json:"delegation"`
	Rerun      []string    `json:"rerun"`
	// MemoryMax is the memory.max of a container cgroup made in the
	// delegated subtree with a 64 MiB limit.
	MemoryMax string `json:"memoryMax"`
	// Delegated is the scope's user.delegate xattr as systemd set it.
	Delegated bool   `json:"delegated"`
	Err       string `json:"err,omitempty"`
}

func TestMain(m *testing.M) {
	if mode := os.Getenv(envHelper); mode != "" {
		res := scopeHelper(mode)
		_ = json.NewEncoder(os.Stdout).Encode(res)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// scopeHelper is Resolve ("resolve": nook's path when its cgroup is not
// delegated) or Find in a scope made by systemd-run ("inscope"), then a
// container cgroup with a memory limit in what it found.
func scopeHelper(mode string) (res helperResult) {
	var err error
	switch mode {
	case "resolve":
		res.Delegation, res.Rerun, err = Resolve(context.Background(), Options{}, "/bin/false", nil)
	case "inscope":
		res.Delegation, err = Find(Options{InScope: os.Getenv(EnvInScope) == "1"})
	default:
		err = fmt.Errorf("unknown helper mode %q", mode)
	}
	if err != nil {
		res.Err = err.Error()
		return res
	}
	d := res.Delegation
	if !d.Usable() {
		res.Err = "nothing delegated: " + d.Reason
		return res
	}
	res.Delegated = delegateMarked(d.BaseDir())
	p, err := d.Plan(fmt.Sprintf("%064x", os.Getpid()), Limits{Memory: 64 << 20}, false)
	if err != nil {
		res.Err = err.Error()
		return res
	}
	if err := p.Cgroup.Create(); err != nil {
		res.Err = err.Error()
		return res
	}
	b, err := os.ReadFile(filepath.Join(p.Cgroup.Path(), "memory.max"))
	res.MemoryMax = strings.TrimSpace(string(b))
	if rerr := p.Cgroup.Remove(); err == nil {
		err = rerr
	}
	if err != nil {
		res.Err = err.Error()
	}
	return res
}

// requireSystemd checks that the test runs as the systemd VM runs it:
// a user manager to ask, and a cgroup of its own that is not delegated.
func requireSystemd(t *testing.T) *Delegation {
	t.Helper()
	if os.Getenv("NOOK_VMTEST_SYSTEMD") != "1" {
		nstest.Skip(t, "needs make vmtest's systemd VM (go run ./vmtest -systemd): NOOK_VMTEST_SYSTEMD is not 1")
	}
	d, err := Find(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if d.Usable() || !d.UserManager || d.Hybrid {
		t.Fatalf("want an undelegated cgroup and a user manager; found %+v", d)
	}
	if inUserManager(d.Own, os.Getuid()) {
		t.Fatalf("the test runs in %s, in the user manager's tree", d.Own)
	}
	t.Logf("own cgroup %s: %s", d.Own, d.Reason)
	return d
}

// runHelper runs this test binary as a helper in mode, through argv0 and
// args (the binary itself, or systemd-run around it).
func runHelper(t *testing.T, mode string, argv []string, env ...string) helperResult {
	t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(append(os.Environ(), envHelper+"="+mode), env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("helper %q: %v\n%s", argv, err, stderr.String())
	}
	var res helperResult
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("helper %q printed %q: %v\n%s", argv, out, err, stderr.String())
	}
	return res
}

// checkScope checks a delegation found in a scope systemd made.
func checkScope(t *testing.T, res helperResult, source Source) {
	t.Helper()
	if res.Err != "" {
		t.Fatal(res.Err)
	}
	d := res.Delegation
	t.Logf("delegation %+v", d)
	if d.Source != source {
		t.Errorf("source %q, want %q", d.Source, source)
	}
	if !inUserManager(d.Base, os.Getuid()) || !strings.HasSuffix(d.Base, ".scope") {
		t.Errorf("base %s is not a scope of user@%d.service", d.Base, os.Getuid())
	}
	for _, c := range []string{"memory", "pids"} {
		if !slices.Contains(d.Controllers, c) {
			t.Errorf("the scope %s lacks %s: %q", d.Base, c, d.Controllers)
		}
	}
	// systemd marks a delegated cgroup with trusted.delegate, which
	// only root can read; user.delegate, which the user can, came in
	// systemd 253 (Debian 12 has 252). Find takes the scope because
	// InScope says systemd made it with Delegate=yes.
	if !res.Delegated {
		t.Logf("%s has no user.delegate xattr (systemd before 253)", d.Base)
	}
	if res.MemoryMax != "67108864" {
		t.Errorf("memory.max of a container cgroup in the scope = %q, want 67108864", res.MemoryMax)
	}
	waitGone(t, d.Dir(d.Base))
}

// waitGone waits for systemd to remove a scope whose processes ended:
// it does so when the kernel reports the cgroup empty, a moment later.
func waitGone(t *testing.T, dir string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat(dir); os.IsNotExist(err) {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("the scope %s is still there 10 s after its processes ended", dir)
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestVMSystemdScope: from an undelegated cgroup, Resolve asks systemd
// over D-Bus (StartScope) and finds the delegated scope it got.
func TestVMSystemdScope(t *testing.T) {
	requireSystemd(t)
	res := runHelper(t, "resolve", []string{os.Args[0], "-test.run=^$"})
	if res.Rerun != nil {
		t.Errorf("Resolve wants a systemd-run restart %q: StartScope failed", res.Rerun)
	}
	checkScope(t, res, SourceSystemd)
}

// TestVMSystemdRunFallback: the fallback's command line (SystemdRunArgv)
// gives the restarted process a delegated scope that Find takes with
// InScope, as nook run does after the restart.
func TestVMSystemdRunFallback(t *testing.T) {
	requireSystemd(t)
	argv, err := SystemdRunArgv(os.Args[0], []string{"-test.run=^$"})
	if err != nil {
		t.Fatal(err)
	}
	res := runHelper(t, "inscope", argv, EnvInScope+"=1")
	checkScope(t, res, SourceSystemd)
}

// TestVMSystemdNookRun: nook run --memory 64m from an undelegated cgroup
// runs the container in a cgroup of a scope under user@UID.service, with
// the limit; straight, and restarted under systemd-run as nook does when
// D-Bus fails.
func TestVMSystemdNookRun(t *testing.T) {
	requireSystemd(t)
	nook, err := exec.LookPath("nook")
	if err != nil {
		t.Fatalf("no nook on PATH (make vmtest puts it in /usr/local/bin): %v", err)
	}
	env := nookStore(t)
	archive := filepath.Join(t.TempDir(), "busybox.tar")
	if err := imagetest.WriteDockerArchive(imagetest.Busybox(t), "busybox:latest", archive); err != nil {
		t.Fatal(err)
	}
	if out, err := nookCmd(nook, env, "load", "-i", archive).CombinedOutput(); err != nil {
		t.Fatalf("nook load: %v\n%s", err, out)
	}
	run := []string{"run", "--rm", "-i", "--memory", "64m", "busybox", "sh", "-c", "cat /sys/fs/cgroup/memory.max; echo ready; read x"}
	t.Run("dbus", func(t *testing.T) {
		checkNookRun(t, nookCmd(nook, env, run...))
	})
	t.Run("systemd-run", func(t *testing.T) {
		argv, err := SystemdRunArgv(nook, run)
		if err != nil {
			t.Fatal(err)
		}
		checkNookRun(t, nookCmd(argv[0], append(env, EnvInScope+"=1"), argv[1:]...))
	})
	// What nook's error message tells a user to do, by hand: without
	// EnvInScope nook cannot tell the scope is delegated under systemd
	// 252 (no user.delegate) and asks systemd for a scope of its own.
	t.Run("by-hand", func(t *testing.T) {
		argv := append([]string{"systemd-run", "--user", "--scope", "-p", "Delegate=yes", nook}, run...)
		checkNookRun(t, nookCmd(argv[0], env, argv[1:]...))
	})
}

// checkNookRun starts cmd (nook run of the workload above), finds the
// container's cgroup while it waits, and lets it end.
func checkNookRun(t *testing.T, cmd *exec.Cmd) {
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdoutPipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	stdout := bufio.NewReader(stdoutPipe)
	var lines []string
	for {
		line, err := stdout.ReadString('\n')
		if err != nil {
			t.Fatalf("the container ended before it was ready (%v): %q; stderr:\n%s", err, lines, stderr.String())
		}
		if line = strings.TrimSpace(line); line == "ready" {
			break
		}
		lines = append(lines, line)
	}
	if len(lines) != 1 || lines[0] != "67108864" {
		t.Errorf("the container's memory.max: %q, want 67108864", lines)
	}
	// The container's cgroup: nook-ID in nook's scope in the user
	// manager's tree, with the limit and the workload.
	manager := filepath.Join("/sys/fs/cgroup/user.slice", fmt.Sprintf("user-%d.slice", os.Getuid()), userManagerUnit(os.Getuid()))
	var found []string
	err = filepath.WalkDir(manager, func(p string, e os.DirEntry, err error) error {
		if err == nil && e.IsDir() && strings.HasPrefix(e.Name(), "nook-") && !isUnit(e.Name()) {
			found = append(found, p)
		}
		return nil
	})
	if err != nil || len(found) != 1 {
		t.Fatalf("want one container cgroup below %s, found %q (%v)", manager, found, err)
	}
	cg := found[0]
	scope := filepath.Dir(cg)
	t.Logf("container cgroup %s", cg)
	// StartScope names its scope nook-PID-RANDOM.scope; systemd-run
	// names its run-RANDOM.scope.
	if !strings.HasSuffix(scope, ".scope") {
		t.Errorf("the container's cgroup %s is not in a scope", cg)
	}
	if got := readFile(t, filepath.Join(cg, "memory.max")); got != "67108864" {
		t.Errorf("%s/memory.max = %q", cg, got)
	}
	if got := readFile(t, filepath.Join(cg, "cgroup.procs")); got == "" {
		t.Errorf("no process in %s", cg)
	}
	if _, err := io.WriteString(stdin, "go\n"); err != nil {
		t.Fatal(err)
	}
	stdin.Close()
	_, _ = io.Copy(io.Discard, stdout)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("nook run: %v; stderr:\n%s", err, stderr.String())
	}
	if s := stderr.String(); s != "" {
		t.Logf("nook run's stderr: %s", s)
	}
	if _, err := os.Stat(cg); !os.IsNotExist(err) {
		t.Errorf("the container's cgroup %s is still there: %v", cg, err)
	}
	waitGone(t, scope)
}

// nookStore is this process's environment with nook's store and
// configuration in the test's temporary directory. XDG_RUNTIME_DIR and
// DBUS_SESSION_BUS_ADDRESS stay the session's: they are how nook finds
// the user's systemd manager.
func nookStore(t *testing.T) []string {
	base := t.TempDir()
	env := os.Environ()
	for _, kv := range [][2]string{{"HOME", "home"}, {"XDG_DATA_HOME", "data"}, {"XDG_CONFIG_HOME", "config"}, {"XDG_CACHE_HOME", "cache"}} {
		dir := filepath.Join(base, kv[1])
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		env = append(env, kv[0]+"="+dir)
	}
	return env
}

func nookCmd(name string, env []string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.Env = env
	return cmd
}

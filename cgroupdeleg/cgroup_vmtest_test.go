//go:build vmtest

// These tests need a real cgroup v2 subtree delegated to the user, with
// the cpu, cpuset, io, memory and pids controllers: make vmtest's VM
// (NOOK_VMTEST=1), never the development machines (hybrid hierarchy).
// There is no skip: in the VM, a missing delegation is a failure.

package cgroupdeleg

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// requireDelegation is the VM's delegated subtree.
func requireDelegation(t *testing.T) *Delegation {
	t.Helper()
	d, err := Find(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !d.Usable() {
		t.Fatalf("no delegated cgroup in the VM: %s", d.Reason)
	}
	for _, c := range []string{"cpu", "cpuset", "io", "memory", "pids"} {
		if !slices.Contains(d.Controllers, c) {
			t.Fatalf("the delegated cgroup %s lacks %s: %q", d.Base, c, d.Controllers)
		}
	}
	return d
}

func randomID(t *testing.T) string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// startIn starts sleep straight in the cgroup whose directory fd is
// open, as the monitor starts a container's child.
func startIn(t *testing.T, fd int, args ...string) *exec.Cmd {
	t.Helper()
	if len(args) == 0 {
		args = []string{"sleep", "1000"}
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: fd}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %q in a cgroup: %v", args, err)
	}
	return cmd
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

func TestVMFind(t *testing.T) {
	d := requireDelegation(t)
	t.Logf("%+v", d)
	if d.Source != SourceOwn {
		t.Errorf("source %q, want own", d.Source)
	}
	if d.Own != d.Base && !strings.HasPrefix(d.Own, d.Base+"/") {
		t.Errorf("base %s is not at or above own %s", d.Base, d.Own)
	}
	// The VM delegates user.slice/user-1000, whose parent is root's.
	if writable(d.Dir(path.Dir(d.Base))) {
		t.Errorf("the walk stopped below %s, which is writable too", path.Dir(d.Base))
	}
}

// TestVMCreateRemove makes a container cgroup with every limit, reads
// them back as the kernel took them, starts a process straight into it,
// samples its stats and removes it, killing the process.
func TestVMCreateRemove(t *testing.T) {
	d := requireDelegation(t)
	l := Limits{
		Memory: 64 << 20, MemoryReservation: 16 << 20, NanoCPUs: 5e8, CPUShares: 512, CPUSetCPUs: "0",
		PidsLimit: 50, BlkioWeight: 500,
		DeviceReadBps:  []DeviceRate{{"/dev/ram0", 2 << 20}},
		DeviceWriteBps: []DeviceRate{{"/dev/ram0", 1 << 20}},
	}
	id := randomID(t)
	p, err := d.Plan(id, l, false)
	if err != nil {
		t.Fatal(err)
	}
	cg := p.Cgroup
	if cg == nil || cg.Path() != filepath.Join(d.BaseDir(), "nook-"+id) {
		t.Fatalf("plan %+v", p)
	}
	if err := cg.Create(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cg.Remove() })
	for file, want := range map[string]string{
		"memory.max": "67108864", "memory.low": "16777216", "memory.swap.max": "67108864",
		"cpu.max": "50000 100000", "cpu.weight": "20", "cpuset.cpus": "0", "pids.max": "50",
		"io.max": "1:0 rbps=2097152 wbps=1048576 riops=max wiops=max",
	} {
		if file == "memory.swap.max" {
			if _, err := os.Stat(filepath.Join(cg.Path(), file)); err != nil {
				continue // no swap accounting in this kernel
			}
		}
		if got := readFile(t, filepath.Join(cg.Path(), file)); got != want {
			t.Errorf("%s = %q, want %q", file, got, want)
		}
	}
	if w := readFile(t, filepath.Join(cg.Path(), "io.weight")); !strings.HasPrefix(w, "default 4950") {
		t.Errorf("io.weight = %q", w)
	}
	cmd := startIn(t, cg.FD())
	cg.Close()
	self := readFile(t, "/proc/"+strconv.Itoa(cmd.Process.Pid)+"/cgroup")
	if want := "0::" + path.Join(d.Base, "nook-"+id); self != want {
		t.Errorf("the process is in %q, want %q", self, want)
	}
	s, err := cg.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if s.Pids != 1 || s.PidsLimit != 50 || s.MemoryLimit != 64<<20 || s.Memory == 0 || s.CPUUsec == 0 {
		t.Errorf("stats %+v", s)
	}
	if err := cg.Remove(); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Errorf("the process ended with %v, want SIGKILL", err)
	}
	if _, err := os.Stat(cg.Path()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("cgroup still there: %v", err)
	}
}

// TestVMNoInternalProcesses gives a delegated cgroup a process of its
// own, as a systemd scope made for nook has: Create must move it into a
// leaf before it can enable controllers for the container.
func TestVMNoInternalProcesses(t *testing.T) {
	d := requireDelegation(t)
	// The base's controllers must be on for the sub-base to have them.
	if err := enableControllers(d.BaseDir(), enabledControllers, nil); err != nil {
		t.Fatal(err)
	}
	sub := path.Join(d.Base, "nooktest-"+randomID(t)[:8])
	dir := d.Dir(sub)
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	sleeper := startIn(t, int(f.Fd()))
	f.Close()
	t.Cleanup(func() {
		sleeper.Process.Kill()
		sleeper.Wait()
		os.Remove(filepath.Join(dir, leafName))
		os.Remove(dir)
	})
	inner, err := Find(Options{Parent: sub})
	if err != nil {
		t.Fatal(err)
	}
	p, err := inner.Plan(randomID(t), Limits{Memory: 64 << 20, PidsLimit: 10}, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Cgroup.Create(); err != nil {
		t.Fatalf("create a container cgroup in a cgroup with a process: %v", err)
	}
	defer p.Cgroup.Remove()
	if got := readFile(t, filepath.Join(dir, "cgroup.procs")); got != "" {
		t.Errorf("processes left in the delegated cgroup: %q", got)
	}
	if got := readFile(t, filepath.Join(dir, leafName, "cgroup.procs")); got != strconv.Itoa(sleeper.Process.Pid) {
		t.Errorf("leaf holds %q, want the sleeper %d", got, sleeper.Process.Pid)
	}
	if got := readFile(t, filepath.Join(p.Cgroup.Path(), "memory.max")); got != "67108864" {
		t.Errorf("memory.max = %q", got)
	}
}

// TestVMKillForkLoop removes a cgroup whose processes keep forking:
// cgroup.kill gets them all.
func TestVMKillForkLoop(t *testing.T) {
	d := requireDelegation(t)
	p, err := d.Plan(randomID(t), Limits{PidsLimit: 30}, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Cgroup.Create(); err != nil {
		t.Fatal(err)
	}
	cmd := startIn(t, p.Cgroup.FD(), "sh", "-c", "while :; do sleep 1000 & done 2>/dev/null")
	if err := p.Cgroup.Remove(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if _, err := os.Stat(p.Cgroup.Path()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("cgroup still there: %v", err)
	}
}

// TestVMRemoveStale is the sweep's removal of a cgroup left by a killed
// nook: its processes are killed, the directory goes.
func TestVMRemoveStale(t *testing.T) {
	d := requireDelegation(t)
	p, err := d.Plan(randomID(t), Limits{}, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Cgroup.Create(); err != nil {
		t.Fatal(err)
	}
	cmd := startIn(t, p.Cgroup.FD())
	p.Cgroup.Close()
	if err := RemoveStale(p.Cgroup.Path()); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if _, err := os.Stat(p.Cgroup.Path()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("cgroup still there: %v", err)
	}
	if err := RemoveStale(p.Cgroup.Path()); err != nil {
		t.Errorf("a second removal: %v", err)
	}
}

// TestVMControllerNotDelegated: a delegated cgroup that does not pass a
// controller on (its parent did not enable it) makes a limit on it an
// error naming the controller and the drop-in.
func TestVMControllerNotDelegated(t *testing.T) {
	d := requireDelegation(t)
	sub := path.Join(d.Base, "nooktest-"+randomID(t)[:8])
	dir := d.Dir(sub)
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(dir)
	// sub enables nothing for its children: sub/x has no controllers.
	if err := os.Mkdir(filepath.Join(dir, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(filepath.Join(dir, "x"))
	inner, err := Find(Options{Parent: path.Join(sub, "x")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = inner.Plan(randomID(t), Limits{Memory: 64 << 20}, false)
	if !errors.Is(err, ErrController) || !strings.Contains(err.Error(), "needs the memory controller") || !strings.Contains(err.Error(), "Delegate=cpu cpuset io memory pids") {
		t.Errorf("a limit on a controller not passed on: %v", err)
	}
}

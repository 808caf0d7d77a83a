//go:build vmtest

// Containers with limits, on a real cgroup v2 subtree delegated to the
// user: make vmtest's VM only (NOOK_VMTEST=1). In the VM a missing
// delegation fails the tests.

package run

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nookrun/nook/cgroupdeleg"
	"github.com/nookrun/nook/image/imagetest"
	"github.com/nookrun/nook/userns"
)

// limited is a container run with a cgroup, its standard input and
// output as pipes the test holds.
type limited struct {
	cg     *cgroupdeleg.Cgroup
	stdin  *os.File
	stdout *bufio.Reader
	done   chan struct{}
	exit   Exit
	err    error
}

// startLimited starts args in a container limited by l, in the
// background.
func startLimited(t *testing.T, l cgroupdeleg.Limits, args ...string) *limited {
	t.Helper()
	requireContainers(t)
	d, err := cgroupdeleg.Find(cgroupdeleg.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !d.Usable() {
		t.Fatalf("no delegated cgroup in the VM: %s", d.Reason)
	}
	id := make([]byte, 32)
	rand.Read(id)
	p, err := d.Plan(hex.EncodeToString(id), l, false)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := userPlanFor(t, userns.Auto)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, sub := range []string{"upper", "work", "state"} {
		if err := os.Mkdir(filepath.Join(dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	inR, inW, _ := os.Pipe()
	outR, outW, _ := os.Pipe()
	errOut, _ := os.Create(filepath.Join(dir, "stderr"))
	cfg := Config{
		Layers:   testImage(t, imagetest.Busybox(t)),
		Upper:    filepath.Join(dir, "upper"),
		Work:     filepath.Join(dir, "work"),
		StateDir: filepath.Join(dir, "state"),
		Hostname: "box",
		Process:  Process{Args: args, Env: []string{imagetest.DefaultPath}, Cwd: "/"},
		UserNS:   plan,
		Stdin:    inR,
		Stdout:   outW,
		Stderr:   errOut,
		Cgroup:   p.Cgroup,
	}
	r := &limited{cg: p.Cgroup, stdin: inW, stdout: bufio.NewReader(outR), done: make(chan struct{})}
	go func() {
		r.exit, r.err = Run(context.Background(), cfg)
		inR.Close()
		outW.Close()
		close(r.done)
	}()
	t.Cleanup(func() {
		inW.Close()
		cgroupdeleg.Open(p.Cgroup.Path()).Kill()
		<-r.done
		outR.Close()
		if b, _ := os.ReadFile(errOut.Name()); len(b) > 0 {
			t.Logf("stderr: %s", b)
		}
	})
	return r
}

// line reads one line the workload wrote.
func (r *limited) line(t *testing.T) string {
	t.Helper()
	s, err := r.stdout.ReadString('\n')
	if err != nil {
		t.Fatalf("read the workload's output: %v (so far %q)", err, s)
	}
	return strings.TrimSuffix(s, "\n")
}

// file reads one of the container's cgroup files.
func (r *limited) file(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(r.cg.Path(), name))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// wait waits for the container's end and checks its cgroup is gone.
func (r *limited) wait(t *testing.T) Exit {
	t.Helper()
	<-r.done
	if r.err != nil {
		t.Fatalf("run: %v", r.err)
	}
	if _, err := os.Stat(r.cg.Path()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the container's cgroup is left: %v", err)
	}
	return r.exit
}

// TestVMMemoryOOM: a workload allocating past --memory 64m is killed by
// the OOM killer: exit status 137, OOMKilled; memory.max read back as
// 67108864 while it ran.
func TestVMMemoryOOM(t *testing.T) {
	r := startLimited(t, cgroupdeleg.Limits{Memory: 64 << 20, MemorySwap: 64 << 20},
		"sh", "-c", "echo ready; read x; exec tail /dev/zero")
	if got := r.line(t); got != "ready" {
		t.Fatalf("workload said %q", got)
	}
	if got := r.file(t, "memory.max"); got != "67108864" {
		t.Errorf("memory.max = %q", got)
	}
	r.stdin.WriteString("go\n")
	exit := r.wait(t)
	if exit.Code != 137 || !exit.OOMKilled {
		t.Errorf("exit %+v, want 137 and OOMKilled", exit)
	}
}

// TestVMInsideItsCgroup: the container's processes are in its cgroup
// from the start, in a cgroup namespace rooted there.
func TestVMInsideItsCgroup(t *testing.T) {
	r := startLimited(t, cgroupdeleg.Limits{}, "sh", "-c", "cat /proc/self/cgroup; echo ready; read x; exit 0")
	if got := r.line(t); got != "0::/" {
		t.Errorf("/proc/self/cgroup in the container: %q", got)
	}
	// cat has been waited for once the shell's echo is read.
	if got := r.line(t); got != "ready" {
		t.Fatalf("workload said %q", got)
	}
	procs := strings.Fields(r.file(t, "cgroup.procs"))
	if len(procs) != 1 {
		t.Errorf("cgroup.procs %q, want the container's one process", procs)
	}
	r.stdin.Close()
	if exit := r.wait(t); exit.Code != 0 || exit.OOMKilled {
		t.Errorf("exit %+v", exit)
	}
}

// TestVMCgroupMounted: the container sees its own cgroup, read-only, at
// /sys/fs/cgroup, with its limits, as under Docker: a JVM or a Go program
// there sizes itself by them.
func TestVMCgroupMounted(t *testing.T) {
	r := startLimited(t, cgroupdeleg.Limits{Memory: 96 << 20},
		"sh", "-c", "cat /sys/fs/cgroup/memory.max; mkdir /sys/fs/cgroup/x 2>/dev/null || echo read-only; echo ready; read x; exit 0")
	if got := r.line(t); got != "100663296" {
		t.Errorf("/sys/fs/cgroup/memory.max in the container: %q, want 100663296", got)
	}
	if got := r.line(t); got != "read-only" {
		t.Errorf("mkdir in /sys/fs/cgroup: %q, want it refused", got)
	}
	if got := r.line(t); got != "ready" {
		t.Fatalf("workload said %q", got)
	}
	r.stdin.Close()
	if exit := r.wait(t); exit.Code != 0 {
		t.Errorf("exit %+v", exit)
	}
}

// TestVMPidsLimit: a fork loop under --pids-limit 50 never has more
// than 50 tasks; the forks past it fail in the container only.
func TestVMPidsLimit(t *testing.T) {
	r := startLimited(t, cgroupdeleg.Limits{PidsLimit: 50},
		"sh", "-c", "(for i in $(seq 100); do sleep 1000 & done) 2>/dev/null; echo ready; read x; exit 0")
	if got := r.line(t); got != "ready" {
		t.Fatalf("workload said %q", got)
	}
	n, _ := strconv.Atoi(r.file(t, "pids.current"))
	if n > 50 || n < 40 {
		t.Errorf("pids.current = %d, want at most 50 (and the loop to have reached it)", n)
	}
	if events := r.file(t, "pids.events"); events == "max 0" {
		t.Errorf("pids.events %q: no fork was refused", events)
	}
	if got := r.file(t, "pids.max"); got != "50" {
		t.Errorf("pids.max = %q", got)
	}
	r.stdin.Close()
	if exit := r.wait(t); exit.Code != 0 {
		t.Errorf("exit %+v", exit)
	}
}

// TestVMCPUQuota: --cpus 0.5 holds a busy loop to about half a CPU,
// measured over a few seconds as CPU time over wall time.
func TestVMCPUQuota(t *testing.T) {
	r := startLimited(t, cgroupdeleg.Limits{NanoCPUs: 5e8}, "sh", "-c", "echo ready; while :; do :; done")
	if got := r.line(t); got != "ready" {
		t.Fatalf("workload said %q", got)
	}
	cg := cgroupdeleg.Open(r.cg.Path())
	before, err := cg.Stats()
	if err != nil {
		t.Fatal(err)
	}
	// The measurement's interval, not a synchronisation.
	time.Sleep(3 * time.Second)
	after, err := cg.Stats()
	if err != nil {
		t.Fatal(err)
	}
	ratio := cgroupdeleg.CPUPercent(before, after) / 100
	t.Logf("CPU over %v: %.3f of a CPU, throttled %d periods", after.Time.Sub(before.Time), ratio, after.Throttled-before.Throttled)
	if ratio < 0.35 || ratio > 0.6 {
		t.Errorf("--cpus 0.5 gave %.3f of a CPU", ratio)
	}
	if after.Throttled <= before.Throttled {
		t.Errorf("never throttled: %d → %d periods", before.Throttled, after.Throttled)
	}
	if got := r.file(t, "cpu.max"); got != "50000 100000" {
		t.Errorf("cpu.max = %q", got)
	}
	cg.Kill()
	if exit := r.wait(t); exit.Code != 137 || exit.OOMKilled {
		t.Errorf("exit %+v, want 137 from the kill, not OOMKilled", exit)
	}
}

// TestVMIOLimits: --device-read-bps, --device-write-bps and
// --blkio-weight are written to io.max and io.weight (a brd RAM disk,
// /dev/ram0, in the VM).
func TestVMIOLimits(t *testing.T) {
	r := startLimited(t, cgroupdeleg.Limits{
		BlkioWeight:    300,
		DeviceReadBps:  []cgroupdeleg.DeviceRate{{Path: "/dev/ram0", Rate: 2 << 20}},
		DeviceWriteBps: []cgroupdeleg.DeviceRate{{Path: "/dev/ram0", Rate: 1 << 20}},
	}, "sh", "-c", "echo ready; read x; exit 0")
	if got := r.line(t); got != "ready" {
		t.Fatalf("workload said %q", got)
	}
	if got := r.file(t, "io.max"); got != "1:0 rbps=2097152 wbps=1048576 riops=max wiops=max" {
		t.Errorf("io.max = %q", got)
	}
	if got := r.file(t, "io.weight"); !strings.HasPrefix(got, "default 2930") {
		t.Errorf("io.weight = %q", got)
	}
	r.stdin.Close()
	r.wait(t)
}

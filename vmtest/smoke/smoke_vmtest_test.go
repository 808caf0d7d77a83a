//go:build vmtest

package smoke

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/nookrun/nook/image/imagetest"
)

// The workload reports its id map, waits for the test to move it, then
// ends. It is sh itself (PID 1 of the container), which the test finds
// among nook's descendants.
const workload = `cat /proc/self/uid_map; echo ready; read word; echo "got $word"`

func TestRunInDelegatedCgroup(t *testing.T) {
	deleg := delegatedRoot(t)
	nook, err := exec.LookPath("nook")
	if err != nil {
		t.Fatalf("no nook on PATH: make vmtest puts bin/nook in the VM's /usr/local/bin; by hand, run make build and add bin to PATH: %v", err)
	}
	env := nookEnv(t)
	archive := filepath.Join(t.TempDir(), "busybox.tar")
	if err := imagetest.WriteDockerArchive(imagetest.Busybox(t), "busybox:latest", archive); err != nil {
		t.Fatal(err)
	}
	runNook(t, nook, env, "load", "-i", archive)

	cmd := exec.Command(nook, "run", "--rm", "-i", "busybox", "sh", "-c", workload)
	cmd.Env = env
	var stderr bytes.Buffer
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
		t.Fatalf("start nook run: %v", err)
	}
	t.Cleanup(func() {
		// Only if the test failed before the container ended.
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	stdout := bufio.NewReader(stdoutPipe)
	var uidMap []string
	for {
		line, err := stdout.ReadString('\n')
		if err != nil {
			t.Fatalf("the container ended before it was ready (%v); stderr:\n%s", err, stderr.String())
		}
		line = strings.TrimSpace(line)
		if line == "ready" {
			break
		}
		uidMap = append(uidMap, strings.Join(strings.Fields(line), " "))
	}

	// nook's default user namespace maps the user to root and the user's
	// subordinate range to 1..N.
	subuid := subordinateRange(t)
	wantMap := []string{fmt.Sprintf("0 %d 1", os.Getuid()), "1 " + subuid}
	if strings.Join(uidMap, "\n") != strings.Join(wantMap, "\n") {
		t.Errorf("uid_map in the container:\n%s\nwant:\n%s", strings.Join(uidMap, "\n"), strings.Join(wantMap, "\n"))
	}

	// The workload runs in the user's delegated subtree (in nook's own
	// cgroup now; in a cgroup of its own once nook makes one).
	pid := workloadPID(t, cmd.Process.Pid)
	cg, err := cgroupOf(strconv.Itoa(pid))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(cgroupRoot, cg)
	t.Logf("workload pid %d is in %s; the delegated subtree is %s", pid, cg, deleg)
	if dir != deleg && !strings.HasPrefix(dir, deleg+"/") {
		t.Fatalf("the workload's cgroup %s is outside the delegated subtree %s", dir, deleg)
	}
	if !ownedByMe(dir) {
		t.Errorf("the workload's cgroup %s is not owned by uid %d", dir, os.Getuid())
	}

	// The user can give the container a memory limit: a cgroup of its own
	// under the delegated one, with memory.max, and the workload moved in.
	if err := os.WriteFile(filepath.Join(deleg, "cgroup.subtree_control"), []byte("+memory"), 0); err != nil {
		t.Fatalf("enable the memory controller in %s: %v", deleg, err)
	}
	limited := filepath.Join(deleg, fmt.Sprintf("smoke-%d", os.Getpid()))
	if err := os.Mkdir(limited, 0o755); err != nil {
		t.Fatalf("make a cgroup in the delegated subtree: %v", err)
	}
	t.Cleanup(func() {
		// After a failure the workload may still be in it; the harness
		// kills and removes what a test leaves.
		if err := removeCgroup(limited); err != nil && !t.Failed() {
			t.Errorf("remove %s after the container ended: %v", limited, err)
		}
	})
	const limit = "67108864"
	writeCgroup(t, limited, "memory.max", limit)
	if got := readCgroup(t, limited, "memory.max"); got != limit {
		t.Errorf("memory.max reads %q after writing %s", got, limit)
	}
	writeCgroup(t, limited, "cgroup.procs", strconv.Itoa(pid))
	if cg, err := cgroupOf(strconv.Itoa(pid)); err != nil || filepath.Join(cgroupRoot, cg) != limited {
		t.Errorf("after the move the workload is in %q (%v), want %s", cg, err, limited)
	}

	// Let the workload end; --rm removes the container.
	if _, err := io.WriteString(stdin, "go\n"); err != nil {
		t.Fatal(err)
	}
	stdin.Close()
	rest, _ := io.ReadAll(stdout)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("nook run: %v; stderr:\n%s", err, stderr.String())
	}
	if !strings.Contains(string(rest), "got go") {
		t.Errorf("the workload printed %q after being moved, want \"got go\"", rest)
	}
	if out := runNook(t, nook, env, "ps", "-a", "-q"); strings.TrimSpace(out) != "" {
		t.Errorf("nook ps -a lists containers after run --rm:\n%s", out)
	}
}

// nookEnv is this process's environment with nook's store, configuration
// and runtime directory in the test's own temporary directories.
func nookEnv(t *testing.T) []string {
	base := t.TempDir()
	env := os.Environ()
	for _, kv := range [][2]string{
		{"HOME", "home"}, {"XDG_DATA_HOME", "data"}, {"XDG_CONFIG_HOME", "config"},
		{"XDG_CACHE_HOME", "cache"}, {"XDG_RUNTIME_DIR", "run"},
	} {
		dir := filepath.Join(base, kv[1])
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		env = append(env, kv[0]+"="+dir)
	}
	return env
}

func runNook(t *testing.T, nook string, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command(nook, args...)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("nook %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// workloadPID finds the container's sh among the processes below nook.
func workloadPID(t *testing.T, nookPID int) int {
	t.Helper()
	pids, err := descendants(nookPID)
	if err != nil {
		t.Fatal(err)
	}
	var found []int
	for _, p := range pids {
		comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", p))
		if strings.TrimSpace(string(comm)) == "sh" {
			found = append(found, p)
		}
	}
	if len(found) != 1 {
		t.Fatalf("want one sh below nook (pid %d), found %v among %v", nookPID, found, pids)
	}
	return found[0]
}

// subordinateRange is "START COUNT" of this user's line in /etc/subuid.
func subordinateRange(t *testing.T) string {
	t.Helper()
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile("/etc/subuid")
	if err != nil {
		t.Fatalf("nook's subordinate-id mode needs /etc/subuid: %v", err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Split(strings.TrimSpace(line), ":")
		if len(f) == 3 && (f[0] == u.Username || f[0] == u.Uid) {
			return f[1] + " " + f[2]
		}
	}
	t.Fatalf("no range for %s in /etc/subuid", u.Username)
	return ""
}

func writeCgroup(t *testing.T, dir, file, value string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, file), []byte(value), 0); err != nil {
		t.Fatalf("write %s to %s/%s: %v", value, dir, file, err)
	}
}

func readCgroup(t *testing.T, dir, file string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, file))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(data))
}

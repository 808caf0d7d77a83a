package ctrtop

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/nookrun/nook/internal/nstest"
)

// The test binary plays a role inside a test's container when envRole
// names one; envExe gives scripts its path.
const (
	envRole = "NOOK_CTRTOP_ROLE"
	envExe  = "NOOK_CTRTOP_EXE"
)

func TestMain(m *testing.M) {
	switch os.Getenv(envRole) {
	case "":
		os.Exit(m.Run())
	case "zombie-parent":
		os.Exit(zombieParent())
	default:
		fmt.Fprintf(os.Stderr, "unknown %s %q\n", envRole, os.Getenv(envRole))
		os.Exit(2)
	}
}

// zombieParent starts /bin/true and never waits for it, so it stays a
// zombie; a shell would reap it. It prints ready once the child is
// started and lives until fd 3 closes.
func zombieParent() int {
	if _, err := os.StartProcess("/bin/true", []string{"true"}, &os.ProcAttr{}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println("ready")
	io.Copy(io.Discard, os.NewFile(3, "hold"))
	return 0
}

// ctr stands in for a container: a shell script run as the first process
// of a new PID namespace by util-linux's unshare. The script reports
// readiness by printing lines (read with expect), and every process that
// must stay up blocks reading fd 3, a pipe the test holds open; closing it
// lets them all exit.
type ctr struct {
	cmd  *exec.Cmd
	init int // host pid of the namespace's first process
	out  *bufio.Scanner
	hold *os.File
}

// startCtr runs script with unshare's flags (nil: a user and PID
// namespace, -Urpf). stdin is the script's standard input (nil:
// /dev/null); a terminal given here becomes its controlling terminal.
// The script's first command must be `echo up`: startCtr returns once it
// has printed it.
func startCtr(t testing.TB, flags []string, stdin *os.File, script string) *ctr {
	t.Helper()
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		t.Fatalf("the tests need util-linux's unshare: %v", err)
	}
	if flags == nil {
		flags = []string{"-Urpf"}
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	args := append(append([]string{"--kill-child"}, flags...), "sh", "-c", script)
	cmd := exec.Command(unshare, args...)
	cmd.ExtraFiles = []*os.File{r}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Env = append(os.Environ(), envExe+"="+exe)
	// unshare complains when its child is killed: its errors are shown
	// only when the test fails.
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if stdin != nil {
		cmd.Stdin = stdin
		cmd.SysProcAttr.Setsid, cmd.SysProcAttr.Setctty, cmd.SysProcAttr.Ctty = true, true, 0
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %v: %v", cmd.Args, err)
	}
	r.Close()
	c := &ctr{cmd: cmd, out: bufio.NewScanner(stdout), hold: w}
	t.Cleanup(func() {
		c.stop()
		if t.Failed() && stderr.Len() > 0 {
			t.Logf("unshare's stderr: %s", stderr.Bytes())
		}
	})
	if !c.out.Scan() {
		c.stop()
		nstest.Skip(t, "unshare "+strings.Join(flags, " ")+" could not start a process in new namespaces: "+strings.TrimSpace(stderr.String()))
	}
	if c.out.Text() != "up" {
		t.Fatalf("script printed %q first, want up", c.out.Text())
	}
	// The script printed, so unshare has forked the namespace's first
	// process: its only child.
	kids := children(t, cmd.Process.Pid)
	if len(kids) != 1 {
		t.Fatalf("unshare %d has children %v, want one", cmd.Process.Pid, kids)
	}
	c.init = kids[0]
	return c
}

// expect reads lines until it has seen every one of want, in any order.
func (c *ctr) expect(t testing.TB, want ...string) {
	t.Helper()
	missing := map[string]bool{}
	for _, w := range want {
		missing[w] = true
	}
	for len(missing) > 0 {
		if !c.out.Scan() {
			t.Fatalf("script ended before printing %v", keys(missing))
		}
		delete(missing, c.out.Text())
	}
}

// stop ends the container: SIGKILL to its first process kills every
// process of its namespace, and unshare reaps it and exits.
func (c *ctr) stop() {
	c.hold.Close()
	if c.cmd.ProcessState == nil {
		if c.init > 0 {
			syscall.Kill(c.init, syscall.SIGKILL)
		} else {
			c.cmd.Process.Kill()
		}
		c.cmd.Wait()
	}
}

// children lists the children of pid from /proc/PID/task/*/children: each
// thread lists the children it forked.
func children(t testing.TB, pid int) []int {
	t.Helper()
	files, err := filepath.Glob("/proc/" + strconv.Itoa(pid) + "/task/*/children")
	if err != nil || len(files) == 0 {
		t.Fatalf("no threads of %d: %v", pid, err)
	}
	var kids []int
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range strings.Fields(string(b)) {
			n, err := strconv.Atoi(f)
			if err != nil {
				t.Fatal(err)
			}
			kids = append(kids, n)
		}
	}
	sort.Ints(kids)
	return kids
}

// descendants is pid and every process below it, found through the
// children files: an independent account of a container whose processes
// all descend from its first one.
func descendants(t testing.TB, pid int) []int {
	t.Helper()
	all := []int{pid}
	for i := 0; i < len(all); i++ {
		all = append(all, children(t, all[i])...)
	}
	sort.Ints(all)
	return all
}

func keys(m map[string]bool) []string {
	var s []string
	for k := range m {
		s = append(s, k)
	}
	sort.Strings(s)
	return s
}

package userns

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nookrun/nook/internal/nstest"
)

// The test binary plays the container's processes in these roles, picked
// from the environment before any test runs:
//
//	role      process                               does
//	hold      child in a new user namespace         waits for fd 3 to close (maps written), prints "uid gid"
//	gain      same, before its maps exist           waits for fd 3 to close, re-execs as $next: the exec
//	                                                after the maps are written grants the capabilities
//	filter    gained child, single-id namespace     runs chown/set*id calls, with or without the filter
//	keepid    gained child, outer keep-id namespace clones a "hold" grandchild in a nested namespace,
//	                                                writes the plan's inner maps, reports them
//	int80     plain child on the host               makes one i386 call, to see if the kernel has them
//	accept    plain child on the host               installs every GOARCH's program, to see the kernel take them
const (
	envRole = "NOOK_USERNS_TEST_ROLE"
	envNext = "NOOK_USERNS_TEST_NEXT"
	envArg  = "NOOK_USERNS_TEST_ARG"
)

func TestMain(m *testing.M) {
	if role := os.Getenv(envRole); role != "" {
		os.Exit(playRole(role))
	}
	os.Exit(m.Run())
}

func playRole(role string) int {
	switch role {
	case "hold":
		waitForMaps()
		fmt.Printf("%d %d\n", os.Getuid(), os.Getgid())
		return 0
	case "gain":
		waitForMaps()
		os.Setenv(envRole, os.Getenv(envNext))
		err := syscall.Exec("/proc/self/exe", os.Args, os.Environ())
		fmt.Fprintf(os.Stderr, "re-exec in the user namespace: %v\n", err)
		return 125
	case "filter", "keepid":
		// The exec that granted the capabilities cleared the
		// parent-death signal; arm it again.
		_ = unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(unix.SIGKILL), 0, 0, 0)
		if os.Getppid() == 1 {
			return 125
		}
		if role == "filter" {
			return filterRole(os.Getenv(envArg))
		}
		return keepIDRole(os.Getenv(envArg))
	case "int80":
		return int80Role()
	case "accept":
		return acceptRole()
	}
	fmt.Fprintf(os.Stderr, "unknown test role %q\n", role)
	return 125
}

// waitForMaps blocks until the parent closes its end of fd 3.
func waitForMaps() {
	_, _ = io.Copy(io.Discard, os.NewFile(3, "sync"))
}

// child is the test binary started in a role, in a new user namespace
// when userns is set.
type child struct {
	cmd      *exec.Cmd
	sync     *os.File
	out, err bytes.Buffer
}

// spawn starts the test binary in role. env adds variables. Starting a
// user namespace that the kernel refuses skips the test (fails it with
// NOOK_TEST_STRICT=1).
func spawn(t testing.TB, role string, userns bool, env ...string) *child {
	t.Helper()
	c, err := startRole(role, userns, env...)
	if err != nil && userns {
		nstest.Skip(t, fmt.Sprintf("clone a user namespace (kernel.unprivileged_userns_clone or user.max_user_namespaces 0?): %v", err))
	}
	if err != nil {
		t.Fatalf("start test role %s: %v", role, err)
	}
	t.Cleanup(func() {
		if c.cmd.ProcessState == nil {
			_ = c.cmd.Process.Kill()
			_ = c.cmd.Wait()
		}
	})
	return c
}

func startRole(role string, userns bool, env ...string) (*child, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	c := &child{sync: w}
	c.cmd = exec.Command("/proc/self/exe")
	c.cmd.Args[0] = os.Args[0]
	c.cmd.Env = append(append(os.Environ(), envRole+"="+role), env...)
	c.cmd.ExtraFiles = []*os.File{r}
	c.cmd.Stdout, c.cmd.Stderr = &c.out, &c.err
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if userns {
		c.cmd.SysProcAttr.Cloneflags = syscall.CLONE_NEWUSER
	}
	if err := c.cmd.Start(); err != nil {
		w.Close()
		return nil, err
	}
	return c, nil
}

func (c *child) pid() int { return c.cmd.Process.Pid }

// finish lets the child go on past its wait and returns what it printed.
func (c *child) finish() (string, error) {
	c.sync.Close()
	if err := c.cmd.Wait(); err != nil {
		return c.out.String(), fmt.Errorf("%v; stderr: %s", err, strings.TrimSpace(c.err.String()))
	}
	return c.out.String(), nil
}

// runGained starts the test binary in a new user namespace, writes its
// maps with p, lets it gain its capabilities and play role with arg (as
// JSON), and decodes what it prints into report.
func runGained(t *testing.T, p Plan, role string, arg, report any) {
	t.Helper()
	b, err := json.Marshal(arg)
	if err != nil {
		t.Fatal(err)
	}
	c := spawn(t, "gain", true, envNext+"="+role, envArg+"="+string(b))
	if err := p.Apply(c.pid()); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	out, err := c.finish()
	if err != nil {
		t.Fatalf("%s role: %v", role, err)
	}
	if err := json.Unmarshal([]byte(out), report); err != nil {
		t.Fatalf("%s role printed %q: %v", role, out, err)
	}
}

// readMap reads /proc/PID/uid_map or gid_map as seen from this namespace.
func readMap(pid int, name string) ([]Mapping, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/" + name)
	if err != nil {
		return nil, err
	}
	var m []Mapping
	for line := range strings.SplitSeq(strings.TrimSpace(string(b)), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if len(f) != 3 {
			return nil, fmt.Errorf("%s line %q", name, line)
		}
		var n [3]uint64
		for i := range f {
			if n[i], err = strconv.ParseUint(f[i], 10, 32); err != nil {
				return nil, fmt.Errorf("%s line %q: %w", name, line, err)
			}
		}
		m = append(m, Mapping{ContainerID: uint32(n[0]), HostID: uint32(n[1]), Size: uint32(n[2])})
	}
	return m, nil
}

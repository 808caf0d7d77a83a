package run

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/nookrun/nook/image/imagetest"
	"github.com/nookrun/nook/internal/nstest"
	"github.com/nookrun/nook/layer"
	"github.com/nookrun/nook/userns"
	"golang.org/x/sys/unix"
)

// TestMain runs the container's roles when the monitor re-executes the
// test binary as a container's child or init.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == RoleChild {
		os.Exit(ChildMain(os.Args[2:]))
	}
	os.Exit(m.Run())
}

// testImage writes img's layers as indexed tars and returns their paths,
// bottom first.
func testImage(t *testing.T, img v1.Image) []string {
	t.Helper()
	dir := t.TempDir()
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, l := range layers {
		rc, err := l.Uncompressed()
		if err != nil {
			t.Fatal(err)
		}
		info, err := layer.Create(context.Background(), rc, dir)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		paths = append(paths, filepath.Join(dir, strings.TrimPrefix(info.DiffID, "sha256:")+".tar"))
	}
	return paths
}

type result struct {
	code   int
	err    error
	stdout string
	stderr string
}

// runIn runs args in a container over layers, with mode's user namespace.
func runIn(t *testing.T, layers []string, mode userns.Mode, edit func(*Config), args ...string) result {
	t.Helper()
	requireContainers(t)
	plan, err := userPlanFor(t, mode)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, d := range []string{"upper", "work", "state"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	stdout, _ := os.Create(filepath.Join(dir, "stdout"))
	stderr, _ := os.Create(filepath.Join(dir, "stderr"))
	defer stdout.Close()
	defer stderr.Close()
	cfg := Config{
		Layers:   layers,
		Upper:    filepath.Join(dir, "upper"),
		Work:     filepath.Join(dir, "work"),
		StateDir: filepath.Join(dir, "state"),
		Hostname: "box",
		Process:  Process{Args: args, Env: []string{imagetest.DefaultPath}, Cwd: "/"},
		UserNS:   plan,
		Stdout:   stdout,
		Stderr:   stderr,
	}
	if edit != nil {
		edit(&cfg)
	}
	exit, err := Run(context.Background(), cfg)
	code := exit.Code
	out, _ := os.ReadFile(stdout.Name())
	errOut, _ := os.ReadFile(stderr.Name())
	return result{code: code, err: err, stdout: string(out), stderr: string(errOut)}
}

// userPlanFor is the test user's user namespace plan in mode.
func userPlanFor(t *testing.T, mode userns.Mode) (userns.Plan, error) {
	u, err := user.Current()
	if err != nil {
		return userns.Plan{}, err
	}
	return userns.NewPlan(userns.Config{Mode: mode, UID: os.Getuid(), GID: os.Getgid(), User: u.Username})
}

// requireContainers skips (or fails, under NOOK_TEST_STRICT) when this
// kernel cannot give an unprivileged user namespaces and FUSE.
func requireContainers(t *testing.T) {
	t.Helper()
	cmd := exec.Command("/bin/true")
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWUSER}
	if err := cmd.Run(); err != nil {
		nstest.Skip(t, fmt.Sprintf("no unprivileged user namespaces: %v", err))
	}
	f, err := os.OpenFile("/dev/fuse", os.O_RDWR, 0)
	if err != nil {
		nstest.Skip(t, fmt.Sprintf("cannot open /dev/fuse (distributions make it 0666): %v", err))
		return
	}
	f.Close()
}

func TestRunEcho(t *testing.T) {
	layers := testImage(t, imagetest.Busybox(t))
	r := runIn(t, layers, userns.Auto, nil, "sh", "-c", "echo hello; echo $$; hostname; exit 3")
	if r.err != nil {
		t.Fatalf("run: %v (stderr %q)", r.err, r.stderr)
	}
	if r.code != 3 {
		t.Errorf("exit status %d, want 3", r.code)
	}
	if want := "hello\n1\nbox\n"; r.stdout != want {
		t.Errorf("stdout %q, want %q", r.stdout, want)
	}
}

func TestRunNotFound(t *testing.T) {
	layers := testImage(t, imagetest.Busybox(t))
	r := runIn(t, layers, userns.Auto, nil, "no-such-command")
	var se *StartError
	if !errors.As(r.err, &se) || r.code != 127 {
		t.Fatalf("got %d, %v; want 127 and a StartError", r.code, r.err)
	}
	if !strings.Contains(r.err.Error(), "not found") {
		t.Errorf("error %q does not say not found", r.err)
	}
}

// TestNoFUSEAccess: without access to the FUSE device the run fails with
// the fix in one line, and leaves nothing mounted or running.
func TestNoFUSEAccess(t *testing.T) {
	layers := testImage(t, imagetest.Busybox(t))
	// Owned by the host's root, which the container's root cannot
	// override: like a /dev/fuse of mode 0600.
	dev := "/proc/sys/kernel/hostname"
	var state string
	r := runIn(t, layers, userns.Auto, func(c *Config) { c.FUSEDevice = dev; state = c.StateDir }, "true")
	if r.code != 125 || r.err == nil || !strings.Contains(r.err.Error(), "chmod 0666") {
		t.Fatalf("got %d, %v; want 125 and the chmod fix", r.code, r.err)
	}
	if strings.Contains(r.err.Error(), "\n") {
		t.Errorf("error is not one line: %q", r.err)
	}
	mounts, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(mounts), state) {
		t.Errorf("something is still mounted under %s", state)
	}
}

// TestStopSignal: SIGTERM to the monitor reaches the container as the
// image's StopSignal.
func TestStopSignal(t *testing.T) {
	layers := testImage(t, imagetest.Busybox(t))
	dir := t.TempDir()
	ready := filepath.Join(dir, "ready")
	done := make(chan result, 1)
	go func() {
		done <- runIn(t, layers, userns.Auto, func(c *Config) {
			c.StopSignal = syscall.SIGUSR1
			c.Mounts = []Mount{{Type: "bind", Source: dir, Target: "/sync"}}
		}, "sh", "-c", `trap 'exit 10' USR1; trap 'exit 15' TERM; touch /sync/ready; while :; do sleep 1; done`)
	}()
	// Wait, without sleeping, for the container to have set its traps.
	if r, failed := waitForFile(t, ready, done); failed {
		t.Fatalf("container ended first: status %d, %v, %s", r.code, r.err, r.stderr)
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.code != 10 {
		t.Errorf("exit status %d (error %v), want 10 from the USR1 trap", r.code, r.err)
	}
}

// waitForFile blocks until path exists (inotify on its directory), or
// returns failed with what done delivered if the container ended first.
func waitForFile(t *testing.T, path string, done chan result) (r result, failed bool) {
	t.Helper()
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := unix.InotifyAddWatch(fd, filepath.Dir(path), unix.IN_CREATE|unix.IN_ATTRIB|unix.IN_MOVED_TO); err != nil {
		t.Fatal(err)
	}
	appeared := make(chan struct{})
	go func() {
		defer close(appeared)
		buf := make([]byte, 4096)
		for {
			if _, err := os.Stat(path); err == nil {
				return
			}
			if _, err := unix.Read(fd, buf); err != nil {
				return
			}
		}
	}()
	select {
	case <-appeared:
		unix.Close(fd)
		return result{}, false
	case r := <-done:
		unix.Close(fd)
		return r, true
	}
}

// Package nstest runs a test binary inside a new user and mount namespace,
// so that tests can mount overlayfs and FUSE as an unprivileged user, the
// way nook itself does. TestMain calls Main; tests call Require.
//
// The binary re-executes itself twice (runc's and rootlesskit's pattern):
//
//	stage   process                          does
//	""      the test binary on the host      clones a child in CLONE_NEWUSER|CLONE_NEWNS,
//	                                         writes its uid/gid maps, waits, exits with its status
//	"map"   child, no caps (exec'd unmapped) waits for the maps, re-execs itself
//	"in"    child, root in its namespace     makes mounts private, runs the tests
//
// The second exec is what grants the capabilities: an exec done before the
// maps exist drops them.
package nstest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"os/user"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

const (
	envStage = "NOOK_NSTEST_STAGE"
	envErr   = "NOOK_NSTEST_ERR"
	// envStrict turns every skip for a missing kernel feature into a failure.
	envStrict = "NOOK_TEST_STRICT"
)

// Main runs the tests of m inside a new user and mount namespace. When the
// namespace cannot be made, the tests run where they are and Require reports
// why.
func Main(m *testing.M) {
	switch os.Getenv(envStage) {
	case "":
		code, err := runInNamespace()
		if err == nil {
			os.Exit(code)
		}
		os.Setenv(envErr, err.Error())
		os.Exit(m.Run())
	case "map":
		// Block until the parent has written the maps (it closes fd 3).
		_, _ = io.Copy(io.Discard, os.NewFile(3, "sync"))
		os.Setenv(envStage, "in")
		err := syscall.Exec("/proc/self/exe", os.Args, os.Environ())
		fmt.Fprintf(os.Stderr, "nstest: re-exec in user namespace: %v\n", err)
		os.Exit(125)
	case "in":
		// The exec that gained the capabilities cleared the parent-death
		// signal: arm it again, so the tests die with the outer binary.
		unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(unix.SIGKILL), 0, 0, 0)
		if os.Getppid() == 1 {
			os.Exit(125)
		}
		if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
			os.Setenv(envErr, fmt.Sprintf("make mounts private: %v", err))
		}
		os.Exit(m.Run())
	}
}

// Strict reports whether skips for missing kernel features must fail.
func Strict() bool { return os.Getenv(envStrict) == "1" }

// Skip skips t with reason, or fails it when NOOK_TEST_STRICT=1.
func Skip(t testing.TB, reason string) {
	t.Helper()
	if Strict() {
		t.Fatalf("NOOK_TEST_STRICT=1 forbids skipping: %s", reason)
	}
	t.Skip(reason)
}

// Require skips (or, in strict mode, fails) t unless it runs as root of a
// user namespace with its own mount namespace.
func Require(t testing.TB) {
	t.Helper()
	if msg := os.Getenv(envErr); msg != "" {
		Skip(t, "no user+mount namespace: "+msg)
	}
	if os.Getenv(envStage) != "in" {
		Skip(t, "test binary was not started through nstest.Main")
	}
}

// RequireFUSE is Require plus an openable /dev/fuse.
func RequireFUSE(t testing.TB) {
	t.Helper()
	Require(t)
	f, err := os.OpenFile("/dev/fuse", os.O_RDWR, 0)
	if err != nil {
		Skip(t, fmt.Sprintf("cannot open /dev/fuse (distributions make it 0666): %v", err))
		return
	}
	f.Close()
}

func runInNamespace() (int, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return 0, err
	}
	defer w.Close()
	cmd := exec.Command("/proc/self/exe", os.Args[1:]...)
	cmd.Args[0] = os.Args[0]
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), envStage+"=map")
	cmd.ExtraFiles = []*os.File{r}
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags: syscall.CLONE_NEWUSER | syscall.CLONE_NEWNS,
		Pdeathsig:  syscall.SIGKILL,
	}
	if err := cmd.Start(); err != nil {
		r.Close()
		return 0, fmt.Errorf("clone user namespace (is kernel.unprivileged_userns_clone or user.max_user_namespaces 0?): %w", err)
	}
	r.Close()
	// go test -timeout sends SIGQUIT: pass it (and ^C, SIGTERM) on, so the
	// stacks printed are those of the tests, inside.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, unix.SIGQUIT, unix.SIGINT, unix.SIGTERM)
	defer signal.Stop(sigs)
	go func() {
		for s := range sigs {
			cmd.Process.Signal(s)
		}
	}()
	if err := writeMaps(cmd.Process.Pid); err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return 0, err
	}
	w.Close()
	err = cmd.Wait()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode(), nil
	}
	if err != nil {
		return 0, err
	}
	return 0, nil
}

// writeMaps maps the caller to root, and a subordinate range (when
// /etc/subuid has one and newuidmap is installed) to 1..N, so tests can
// chown to other ids.
func writeMaps(pid int) error {
	uid, gid := os.Getuid(), os.Getgid()
	p := strconv.Itoa(pid)
	if uid == 0 {
		full := "0 0 4294967295\n"
		if err := os.WriteFile("/proc/"+p+"/uid_map", []byte(full), 0); err != nil {
			return fmt.Errorf("write uid_map: %w", err)
		}
		if err := os.WriteFile("/proc/"+p+"/gid_map", []byte(full), 0); err != nil {
			return fmt.Errorf("write gid_map: %w", err)
		}
		return nil
	}
	name := strconv.Itoa(uid)
	if u, err := user.LookupId(name); err == nil {
		name = u.Username
	}
	su, errU := subRange("/etc/subuid", name, uid)
	sg, errG := subRange("/etc/subgid", name, uid)
	nu, errNU := exec.LookPath("newuidmap")
	ng, errNG := exec.LookPath("newgidmap")
	if errU == nil && errG == nil && errNU == nil && errNG == nil {
		if out, err := exec.Command(nu, p, "0", strconv.Itoa(uid), "1", "1", su[0], su[1]).CombinedOutput(); err != nil {
			return fmt.Errorf("newuidmap: %v: %s", err, out)
		}
		if out, err := exec.Command(ng, p, "0", strconv.Itoa(gid), "1", "1", sg[0], sg[1]).CombinedOutput(); err != nil {
			return fmt.Errorf("newgidmap: %v: %s", err, out)
		}
		return nil
	}
	if err := os.WriteFile("/proc/"+p+"/uid_map", []byte(fmt.Sprintf("0 %d 1\n", uid)), 0); err != nil {
		return fmt.Errorf("write uid_map: %w", err)
	}
	if err := os.WriteFile("/proc/"+p+"/setgroups", []byte("deny"), 0); err != nil {
		return fmt.Errorf("write setgroups: %w", err)
	}
	if err := os.WriteFile("/proc/"+p+"/gid_map", []byte(fmt.Sprintf("0 %d 1\n", gid)), 0); err != nil {
		return fmt.Errorf("write gid_map: %w", err)
	}
	return nil
}

// subRange returns the first "start count" range of user (by name or id) in
// a subordinate id file.
func subRange(file, name string, id int) ([2]string, error) {
	f, err := os.Open(file)
	if err != nil {
		return [2]string{}, err
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		parts := strings.Split(strings.TrimSpace(s.Text()), ":")
		if len(parts) != 3 || (parts[0] != name && parts[0] != strconv.Itoa(id)) {
			continue
		}
		return [2]string{parts[1], parts[2]}, nil
	}
	return [2]string{}, fmt.Errorf("no range for %s in %s", name, file)
}

// HasSubordinateIDs reports whether ids other than root are mapped, so
// tests that chown to other ids can run.
func HasSubordinateIDs() bool {
	b, err := os.ReadFile("/proc/self/uid_map")
	if err != nil {
		return false
	}
	return len(strings.Split(strings.TrimSpace(string(b)), "\n")) > 1 || strings.Contains(string(b), "4294967295")
}

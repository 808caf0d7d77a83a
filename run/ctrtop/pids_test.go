package ctrtop

import (
	"errors"
	"os"
	"slices"
	"strconv"
	"syscall"
	"testing"
)

// TestPidsFindsContainer: Pids lists exactly the processes of the
// container, including those of a PID namespace nested inside it, and
// none of the host's or of a second container's.
func TestPidsFindsContainer(t *testing.T) {
	script := `echo up
sh -c 'echo child; read x <&3' &
unshare -pf sh -c 'echo nested; read x <&3' &
echo ready
read x <&3`
	c := startCtr(t, nil, nil, script)
	c.expect(t, "ready", "child", "nested")
	other := startCtr(t, nil, nil, "echo up; sh -c 'echo child; read x <&3' & read x <&3")
	other.expect(t, "child")

	got, err := Pids(c.init)
	if err != nil {
		t.Fatal(err)
	}
	// init, the child sh, unshare and the nested sh.
	want := descendants(t, c.init)
	if len(want) != 4 {
		t.Fatalf("the container has processes %v, want 4", want)
	}
	if !slices.Equal(got, want) {
		t.Errorf("Pids(%d) = %v, want %v", c.init, got, want)
	}
	nested := 0
	for _, p := range got {
		if nsOf(t, p) != nsOf(t, c.init) {
			nested++
		}
	}
	if nested != 1 {
		t.Errorf("%d of %v are in a nested PID namespace, want 1 (the test does not cover nesting)", nested, got)
	}
	for _, host := range []int{os.Getpid(), c.cmd.Process.Pid, other.init, other.cmd.Process.Pid} {
		if slices.Contains(got, host) {
			t.Errorf("Pids(%d) = %v includes %d, which is not in the container", c.init, got, host)
		}
	}
	gotOther, err := Pids(other.init)
	if err != nil {
		t.Fatal(err)
	}
	if want := descendants(t, other.init); !slices.Equal(gotOther, want) {
		t.Errorf("Pids(%d) = %v, want %v", other.init, gotOther, want)
	}
}

// TestPidsProcessExitsMidScan: a process listed in /proc that is gone when
// the scan reaches it is left out, without error, by Pids and by Table.
func TestPidsProcessExitsMidScan(t *testing.T) {
	script := `echo up
sh -c 'echo c1; read x <&3' & c1=$!
sh -c 'echo c2; read x <&3' & c2=$!
echo ready
wait $c1 2>/dev/null; echo reaped1
wait $c2 2>/dev/null; echo reaped2
read x <&3`
	c := startCtr(t, nil, nil, script)
	c.expect(t, "ready", "c1", "c2")
	kids := children(t, c.init)
	if len(kids) != 2 {
		t.Fatalf("init has children %v, want 2", kids)
	}
	// kill makes the listed process exit and waits until its parent has
	// reaped it, so its /proc entry is gone.
	kill := func(pid int, reaped string) func() {
		return func() {
			if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
				t.Errorf("kill %d: %v", pid, err)
			}
			c.expect(t, reaped)
		}
	}

	got, err := scanPids(c.init, kill(kids[0], "reaped1"))
	if err != nil {
		t.Fatalf("Pids with a process exiting mid-scan: %v", err)
	}
	if want := []int{c.init, kids[1]}; !slices.Equal(got, want) {
		t.Errorf("Pids = %v, want %v", got, want)
	}

	_, rows, err := defaultTable(c.init, kill(kids[1], "reaped2"))
	if err != nil {
		t.Fatalf("Table with a process exiting mid-scan: %v", err)
	}
	if len(rows) != 1 || rows[0][1] != strconv.Itoa(c.init) {
		t.Errorf("Table rows = %v, want only init %d", rows, c.init)
	}
}

// TestPidsErrors: a container whose first process is gone, and a process
// of nook's own PID namespace, are errors the CLI can tell apart.
func TestPidsErrors(t *testing.T) {
	c := startCtr(t, nil, nil, "echo up; read x <&3")
	init := c.init
	c.stop()
	if _, err := Pids(init); !errors.Is(err, ErrNoProcess) {
		t.Errorf("Pids of exited %d: %v, want ErrNoProcess", init, err)
	}
	if _, _, err := Table(init, nil); !errors.Is(err, ErrNoProcess) {
		t.Errorf("Table of exited %d: %v, want ErrNoProcess", init, err)
	}
	if _, err := Pids(os.Getpid()); !errors.Is(err, ErrSharedPIDNamespace) {
		t.Errorf("Pids of the test itself: %v, want ErrSharedPIDNamespace", err)
	}
}

// nsOf is the PID namespace of pid, by the inode of its nsfs file.
func nsOf(t *testing.T, pid int) nsID {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat("/proc/"+strconv.Itoa(pid)+"/ns/pid", &st); err != nil {
		t.Fatal(err)
	}
	return nsID{uint64(st.Dev), uint64(st.Ino)}
}

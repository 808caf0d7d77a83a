package ctrtop

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// subuidFlags are unshare flags for a container with a second uid, and
// the uid inside that shows as a host uid without a name: a subordinate
// uid for a user (from /etc/subuid), 100000 itself for root, who needs no
// user namespace. ok is false when this user has no subordinate range.
func subuidFlags(t *testing.T) (flags []string, inner string, ok bool) {
	if os.Geteuid() == 0 {
		return []string{"-pf"}, "100000", true
	}
	flags = []string{"--map-auto", "--map-root-user", "-pf"}
	if out, err := exec.Command("unshare", append(flags, "true")...).CombinedOutput(); err != nil {
		t.Logf("no subordinate uid range for this user (unshare --map-auto: %v: %s): the table is checked without a second uid", err, out)
		return nil, "", false
	}
	return flags, "1", true
}

// openPTY opens a new pseudo-terminal and returns its terminal end.
func openPTY(t *testing.T) *os.File {
	t.Helper()
	ptmx, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("open a pty: %v", err)
	}
	t.Cleanup(func() { ptmx.Close() })
	if err := unix.IoctlSetPointerInt(int(ptmx.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatalf("unlock pty: %v", err)
	}
	n, err := unix.IoctlGetInt(int(ptmx.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatalf("pty number: %v", err)
	}
	pts, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("open pty terminal: %v", err)
	}
	t.Cleanup(func() { pts.Close() })
	return pts
}

// psColumns runs ps for pids with the columns given and returns, by pid,
// the fields of each line (the last column may hold spaces: it takes the
// rest of the line).
func psColumns(t *testing.T, pids []string, cols ...string) map[string][]string {
	t.Helper()
	spec := strings.Join(cols, "=,") + "="
	out, err := exec.Command("ps", "-ww", "-o", spec, "-q", strings.Join(pids, ",")).Output()
	if err != nil {
		t.Fatalf("ps -o %s: %v", spec, err)
	}
	byPid := map[string][]string{}
	pidCol := slices.Index(cols, "pid")
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := fit(strings.Fields(line), len(cols))
		byPid[f[pidCol]] = f
	}
	return byPid
}

// TestTableDefaultMatchesPS: the default columns computed from /proc say
// what ps says for the same processes: user (a named host user, and a
// subordinate uid with no name), host pid and parent pid, terminal, CPU
// time, start time and command line; C is a percentage.
func TestTableDefaultMatchesPS(t *testing.T) {
	flags, inner, haveSubuid := subuidFlags(t)
	second := ""
	if haveSubuid {
		second = fmt.Sprintf("setpriv --reuid=%s --regid=%s --clear-groups sh -c 'echo second; read x <&3' &\n", inner, inner)
	}
	script := "echo up\nsh -c 'echo child; read x <&3' &\n" + second + "echo ready\nread x <&3"
	c := startCtr(t, flags, openPTY(t), script)
	want := []string{"ready", "child"}
	if haveSubuid {
		want = append(want, "second")
	}
	c.expect(t, want...)

	header, before, err := Table(c.init, nil)
	if err != nil {
		t.Fatal(err)
	}
	pids := make([]string, len(before))
	for i, r := range before {
		pids[i] = r[1]
	}
	ps := psColumns(t, pids, "euser:64", "pid", "ppid", "tty", "time", "stime", "args")
	_, after, err := Table(c.init, nil)
	if err != nil {
		t.Fatal(err)
	}

	psHeader, err := exec.Command("ps", "-ef", "-q", "1").Output()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Fields(strings.SplitN(string(psHeader), "\n", 2)[0]); !slices.Equal(header, got) {
		t.Errorf("header %v, ps -ef's %v", header, got)
	}
	if len(before) != len(want) || len(after) != len(before) {
		t.Fatalf("tables have %d and %d rows, want %d: %v", len(before), len(after), len(want), before)
	}
	uids := map[string]bool{}
	for i, row := range before {
		p := ps[row[1]]
		if p == nil {
			t.Errorf("ps shows no process %s", row[1])
			continue
		}
		uids[row[0]] = true
		// UID PID PPID TTY CMD are exact; TIME and STIME may move on
		// between the reads, so ps's must be the value before or after.
		exact := map[string][2]string{
			"UID": {row[0], p[0]}, "PID": {row[1], p[1]}, "PPID": {row[2], p[2]},
			"TTY": {row[5], p[3]}, "CMD": {row[7], p[6]},
		}
		for col, v := range exact {
			if v[0] != v[1] {
				t.Errorf("pid %s: %s %q, ps says %q", row[1], col, v[0], v[1])
			}
		}
		if p[4] != row[6] && p[4] != after[i][6] {
			t.Errorf("pid %s: TIME %q then %q, ps says %q", row[1], row[6], after[i][6], p[4])
		}
		if p[5] != row[4] && p[5] != after[i][4] {
			t.Errorf("pid %s: STIME %q then %q, ps says %q", row[1], row[4], after[i][4], p[5])
		}
		if n, err := strconv.Atoi(row[3]); err != nil || n < 0 || n > 99 {
			t.Errorf("pid %s: C %q is not a percentage 0..99", row[1], row[3])
		}
		if !strings.HasPrefix(row[5], "pts/") {
			t.Errorf("pid %s: TTY %q, want the test's pty", row[1], row[5])
		}
	}
	if haveSubuid && len(uids) != 2 {
		t.Errorf("users %v, want two (the container's root and a second uid)", uids)
	}
	if before[0][1] != strconv.Itoa(c.init) || before[0][2] != strconv.Itoa(c.cmd.Process.Pid) {
		t.Errorf("first row %v, want init %d whose parent is unshare %d", before[0], c.init, c.cmd.Process.Pid)
	}
}

// TestTableZombie: a zombie shows as ps shows it, "[comm] <defunct>".
func TestTableZombie(t *testing.T) {
	c := startCtr(t, nil, nil, "echo up; exec env "+envRole+"=zombie-parent \"$"+envExe+"\"")
	c.expect(t, "ready")
	kids := children(t, c.init)
	if len(kids) != 1 {
		t.Fatalf("init has children %v, want one", kids)
	}
	waitExit(t, kids[0])
	_, rows, err := Table(c.init, nil)
	if err != nil {
		t.Fatal(err)
	}
	ps := psColumns(t, []string{strconv.Itoa(kids[0])}, "pid", "args")
	for _, r := range rows {
		if r[1] == strconv.Itoa(kids[0]) {
			if r[7] != "[true] <defunct>" || r[7] != ps[r[1]][1] {
				t.Errorf("zombie's CMD %q, ps says %q, want [true] <defunct>", r[7], ps[r[1]][1])
			}
			return
		}
	}
	t.Errorf("no row for zombie %d in %v", kids[0], rows)
}

// waitExit blocks until pid has exited (it is then a zombie until reaped):
// its pidfd becomes readable.
func waitExit(t *testing.T, pid int) {
	t.Helper()
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		t.Fatalf("pidfd_open %d: %v", pid, err)
	}
	defer unix.Close(fd)
	deadline := time.Now().Add(30 * time.Second)
	for {
		n, err := unix.Poll([]unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}, int(time.Until(deadline).Milliseconds()))
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil || n == 0 {
			t.Fatalf("process %d did not exit within 30s (poll: %v)", pid, err)
		}
		return
	}
}

// TestTablePSArgs: with ps options, the table is ps's, cut to the
// container's rows; without a PID column, or with another column titled
// PID, it is an error saying what to pass.
func TestTablePSArgs(t *testing.T) {
	c := startCtr(t, nil, nil, "echo up\nsh -c 'echo child; read x <&3' &\necho ready\nread x <&3")
	c.expect(t, "ready", "child")
	pids, err := Pids(c.init)
	if err != nil {
		t.Fatal(err)
	}

	header, rows, err := Table(c.init, []string{"-o", "pid,comm"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(header, []string{"PID", "COMMAND"}) {
		t.Errorf("header %v, want [PID COMMAND]", header)
	}
	var got []int
	for _, r := range rows {
		p, _ := strconv.Atoi(r[0])
		got = append(got, p)
		if r[1] != "sh" {
			t.Errorf("row %v: COMMAND %q, want sh", r, r[1])
		}
	}
	if !slices.Equal(got, pids) {
		t.Errorf("ps -o pid,comm rows for pids %v, want %v", got, pids)
	}

	// -ef is docker top's own default: the same pids and command lines as
	// the table computed from /proc. axf is a forest listing, with which
	// ps refuses -q, so the whole listing is filtered.
	_, def, err := Table(c.init, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"-ef"}, {"axf", "-o", "pid,ppid,args"}} {
		header, rows, err := Table(c.init, args)
		if err != nil {
			t.Fatalf("ps %v: %v", args, err)
		}
		if len(rows) != len(def) {
			t.Fatalf("ps %v: rows %v, want %d", args, rows, len(def))
		}
		for i, r := range rows {
			cmd := strings.TrimLeft(r[len(r)-1], `|\_ `) // axf's tree
			if r[slices.Index(header, "PID")] != def[i][1] || cmd != def[i][7] {
				t.Errorf("ps %v: row %v, the default table's %v", args, r, def[i])
			}
		}
	}

	_, _, err = Table(c.init, []string{"-o", "comm"})
	if !errors.Is(err, ErrNoPIDColumn) || !strings.Contains(err.Error(), "-o pid,comm") {
		t.Errorf("ps -o comm: %v, want ErrNoPIDColumn naming -o pid,comm", err)
	}
	_, _, err = Table(c.init, []string{"-o", "pid=,comm="})
	if !errors.Is(err, ErrNoPIDColumn) {
		t.Errorf("ps -o pid=,comm= (no header): %v, want ErrNoPIDColumn", err)
	}
	_, _, err = Table(c.init, []string{"-o", "user=PID,comm"})
	if !errors.Is(err, ErrPIDAlias) {
		t.Errorf("ps -o user=PID: %v, want ErrPIDAlias", err)
	}
	_, rows, err = Table(c.init, []string{"-o", "pid=PID,comm"})
	if err != nil || len(rows) != len(pids) {
		t.Errorf("ps -o pid=PID,comm: %d rows, %v; want %d rows", len(rows), err, len(pids))
	}
	_, _, err = Table(c.init, []string{"--no-such-option"})
	if err == nil || !regexp.MustCompile(`^ps --no-such-option: `).MatchString(err.Error()) {
		t.Errorf("ps --no-such-option: %v, want ps's own complaint", err)
	}
}

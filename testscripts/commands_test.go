package testscripts

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
	"golang.org/x/sys/unix"
)

// waitLimit bounds every wait of a script for the kernel or a process: a
// limit on a hang, never a sleep that stands in for synchronisation.
const waitLimit = 30 * time.Second

// scriptCommands are the scripts' own commands:
//
//	leftovers          fail if a mount under $WORK or a nook-overlayfs
//	                   process of this script is left (also checked at the end)
//	mounted DIR        DIR is a mount point; prints "FSTYPE SOURCE OPTIONS"
//	waitmount DIR      wait (on mountinfo's poll event) until DIR is a FUSE mount
//	waitexit           wait (on pidfds) until this script's nook-overlayfs
//	                   processes have exited
//	signal SIG WHO     send SIG (TERM, INT, HUP, KILL) to the script's
//	                   background commands (WHO=bg) or its nook-overlayfs
//	                   daemons (WHO=daemon)
//	whiteout PATH      PATH's name is whited out in its directory: a 0:0
//	                   character device PATH or an OCI .wh.NAME file beside it
//	sysbin             make $NOOKBIN's commands visible in /usr/local/sbin of
//	                   this mount namespace until the script ends: mount(8)
//	                   runs its helpers with a fixed PATH
func scriptCommands() map[string]func(ts *testscript.TestScript, neg bool, args []string) {
	return map[string]func(ts *testscript.TestScript, neg bool, args []string){
		"leftovers": cmdLeftovers,
		"mounted":   cmdMounted,
		"waitmount": cmdWaitMount,
		"waitexit":  cmdWaitExit,
		"signal":    cmdSignal,
		"whiteout":  cmdWhiteout,
		"sysbin":    cmdSysbin,
	}
}

func cmdLeftovers(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 0 {
		ts.Fatalf("usage: leftovers")
	}
	left, err := describeLeftovers(ts.Getenv("WORK"))
	ts.Check(err)
	switch {
	case neg && len(left) == 0:
		ts.Fatalf("nothing left behind")
	case !neg && len(left) > 0:
		ts.Fatalf("left behind: %q", left)
	}
}

func cmdMounted(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: mounted DIR")
	}
	dir := ts.MkAbs(args[0])
	m, ok, err := mountAt(dir)
	ts.Check(err)
	switch {
	case neg && ok:
		ts.Fatalf("%s is mounted: %s %s %s", args[0], m.fstype, m.source, m.options)
	case !neg && !ok:
		ts.Fatalf("%s is not a mount point", args[0])
	case ok:
		fmt.Fprintf(ts.Stdout(), "%s %s %s\n", m.fstype, m.source, m.options)
	}
}

// cmdWaitMount waits for a FUSE mount at DIR. The kernel flags
// /proc/self/mountinfo with POLLPRI whenever the mount table changes; each
// poll re-arms, so a change between a read and the poll is not missed.
func cmdWaitMount(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: waitmount DIR")
	}
	dir := ts.MkAbs(args[0])
	f, err := os.Open("/proc/self/mountinfo")
	ts.Check(err)
	defer f.Close()
	deadline := time.Now().Add(waitLimit)
	for {
		m, ok, err := mountAt(dir)
		ts.Check(err)
		if ok && strings.HasPrefix(m.fstype, "fuse") {
			return
		}
		left := time.Until(deadline)
		if left <= 0 {
			ts.Fatalf("no FUSE mount at %s after %v", args[0], waitLimit)
		}
		fds := []unix.PollFd{{Fd: int32(f.Fd()), Events: unix.POLLPRI}}
		if _, err := unix.Poll(fds, int(left.Milliseconds())+1); err != nil && !errors.Is(err, unix.EINTR) {
			ts.Fatalf("poll mountinfo: %v", err)
		}
	}
}

// cmdWaitExit waits until the script's nook-overlayfs processes are gone;
// a pidfd becomes readable when its process exits.
func cmdWaitExit(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: waitexit")
	}
	deadline := time.Now().Add(waitLimit)
	for {
		pids := daemons(ts.Getenv("WORK"))
		if len(pids) == 0 {
			return
		}
		var fds []unix.PollFd
		for _, pid := range pids {
			fd, err := unix.PidfdOpen(pid, 0)
			if err != nil {
				continue // exited meanwhile
			}
			defer unix.Close(fd)
			fds = append(fds, unix.PollFd{Fd: int32(fd), Events: unix.POLLIN})
		}
		left := time.Until(deadline)
		if left <= 0 {
			ts.Fatalf("nook-overlayfs processes %v still running after %v", pids, waitLimit)
		}
		if len(fds) > 0 {
			if _, err := unix.Poll(fds, int(left.Milliseconds())+1); err != nil && !errors.Is(err, unix.EINTR) {
				ts.Fatalf("poll pidfds: %v", err)
			}
		}
	}
}

func cmdSignal(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: signal TERM|INT|HUP|KILL bg|daemon")
	}
	sig, ok := map[string]unix.Signal{"TERM": unix.SIGTERM, "INT": unix.SIGINT, "HUP": unix.SIGHUP, "KILL": unix.SIGKILL}[args[0]]
	if !ok {
		ts.Fatalf("unknown signal %s", args[0])
	}
	var pids []int
	switch args[1] {
	case "bg":
		for _, c := range ts.BackgroundCmds() {
			pids = append(pids, c.Process.Pid)
		}
	case "daemon":
		pids = daemons(ts.Getenv("WORK"))
	default:
		ts.Fatalf("usage: signal SIG bg|daemon")
	}
	if len(pids) == 0 {
		ts.Fatalf("no %s process to signal", args[1])
	}
	for _, pid := range pids {
		// A background command may have exited already: not an error.
		if err := unix.Kill(pid, sig); err != nil && !errors.Is(err, unix.ESRCH) {
			ts.Fatalf("signal %d: %v", pid, err)
		}
	}
}

func cmdWhiteout(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: whiteout PATH")
	}
	p := ts.MkAbs(args[0])
	var st unix.Stat_t
	dev := unix.Lstat(p, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFCHR && st.Rdev == 0
	_, err := os.Lstat(filepath.Join(filepath.Dir(p), ".wh."+filepath.Base(p)))
	oci := err == nil
	switch {
	case neg && (dev || oci):
		ts.Fatalf("%s is whited out", args[0])
	case !neg && !dev && !oci:
		ts.Fatalf("%s is not whited out: no 0:0 character device and no .wh. file", args[0])
	}
}

func cmdSysbin(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: sysbin")
	}
	const dir = "/usr/local/sbin"
	if err := unix.Mount(ts.Getenv("NOOKBIN"), dir, "", unix.MS_BIND, ""); err != nil {
		ts.Fatalf("bind %s on %s (needs the test's mount namespace): %v", ts.Getenv("NOOKBIN"), dir, err)
	}
	ts.Defer(func() {
		if err := unix.Unmount(dir, unix.MNT_DETACH); err != nil {
			ts.Logf("unmount %s: %v", dir, err)
		}
	})
}

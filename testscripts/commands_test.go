package testscripts

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
	"golang.org/x/sys/unix"

	"github.com/nookrun/nook/internal/mountinfo"
)

// waitLimit bounds every wait of a script for the kernel or a process: a
// limit on a hang, never a sleep that stands in for synchronisation.
const waitLimit = 30 * time.Second

// scriptCommands are the scripts' own commands:
//
//	leftovers          fail if a mount under $WORK or a nook-overlayfs
//	                   process of this script is left (also checked at the end)
//	mounted DIR        DIR is a mount point; prints "FSTYPE SOURCE OPTIONS"
//	readysocket        make an sd_notify socket and point NOTIFY_SOCKET at it
//	waitready          wait for READY=1 on it from a foreground nook-overlayfs
//	waitexit           wait (on pidfds) until this script's nook-overlayfs
//	                   processes have exited
//	signal SIG WHO     send SIG (TERM, INT, HUP, KILL) to the script's
//	                   background commands (WHO=bg) or its nook-overlayfs
//	                   daemons (WHO=daemon)
//	whiteout PATH      PATH's name is whited out in its directory: a 0:0
//	                   character device PATH or an OCI .wh.NAME file beside it
//	unmount DIR        unmount DIR lazily (see cmdUnmount)
//	sysbin             make $NOOKBIN's commands visible in /usr/local/sbin of
//	                   this mount namespace until the script ends: mount(8)
//	                   runs its helpers with a fixed PATH
func scriptCommands() map[string]func(ts *testscript.TestScript, neg bool, args []string) {
	return map[string]func(ts *testscript.TestScript, neg bool, args []string){
		"leftovers":   cmdLeftovers,
		"mounted":     cmdMounted,
		"readysocket": cmdReadySocket,
		"waitready":   cmdWaitReady,
		"waitexit":    cmdWaitExit,
		"signal":      cmdSignal,
		"whiteout":    cmdWhiteout,
		"sysbin":      cmdSysbin,
		"unmount":     cmdUnmount,
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
	m, ok, err := mountinfo.At(dir)
	ts.Check(err)
	switch {
	case neg && ok:
		ts.Fatalf("%s is mounted: %s %s %s", args[0], m.FSType, m.Source, m.Options)
	case !neg && !ok:
		ts.Fatalf("%s is not a mount point", args[0])
	case ok:
		fmt.Fprintf(ts.Stdout(), "%s %s %s\n", m.FSType, m.Source, m.Options)
	}
}

// readyKey finds a script's readySocket among its values.
type readyKey struct{}

// readySocket receives sd_notify messages from the script's foreground
// nook-overlayfs commands. (Polling /proc/self/mountinfo for the mount would
// be the other way, but the kernel does not wake such a poll in a user
// namespace's mount namespace.)
type readySocket struct {
	conn *net.UnixConn
}

func cmdReadySocket(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: readysocket")
	}
	rs := ts.Value(readyKey{}).(*readySocket)
	if rs.conn != nil {
		ts.Fatalf("readysocket: already made")
	}
	path := filepath.Join(ts.Getenv("XDG_RUNTIME_DIR"), "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	ts.Check(err)
	rs.conn = conn
	ts.Defer(func() { conn.Close() })
	ts.Setenv("NOTIFY_SOCKET", path)
}

func cmdWaitReady(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: waitready")
	}
	rs := ts.Value(readyKey{}).(*readySocket)
	if rs.conn == nil {
		ts.Fatalf("waitready: no readysocket")
	}
	ts.Check(rs.conn.SetReadDeadline(time.Now().Add(waitLimit)))
	buf := make([]byte, 4096)
	n, err := rs.conn.Read(buf)
	if err != nil {
		ts.Fatalf("no READY=1 from a foreground nook-overlayfs within %v: %v", waitLimit, err)
	}
	if msg := string(buf[:n]); !strings.Contains("\n"+msg+"\n", "\nREADY=1\n") {
		ts.Fatalf("sd_notify message %q, want READY=1", msg)
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

// cmdUnmount detaches the mount at DIR. It is lazy (MNT_DETACH) because the
// scripts run in parallel in one process: a child that another script's
// exec has forked holds every open file of the test process until it has
// exec'd, and a builtin like cmp may have one open in this mount just then,
// which makes a plain umount fail with EBUSY now and then. The server still
// has to let go for waitexit to return, so a server that keeps its own
// mount busy is still caught.
func cmdUnmount(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: unmount DIR")
	}
	if err := unix.Unmount(ts.MkAbs(args[0]), unix.MNT_DETACH); err != nil {
		ts.Fatalf("unmount %s: %v", args[0], err)
	}
}

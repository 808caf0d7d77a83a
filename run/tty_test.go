package run

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nookrun/nook/image/imagetest"
	"github.com/nookrun/nook/userns"
)

// openTestPty opens a pseudo-terminal of the host: the test drives the
// master, the monitor gets the terminal as a user's shell would give it.
func openTestPty(t *testing.T) (master, term *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("open /dev/ptmx: %v", err)
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	s, err := os.OpenFile(filepath.Join("/dev/pts", strconv.Itoa(n)), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.IoctlSetWinsize(int(s.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 31, Col: 101}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close(); s.Close() })
	return m, s
}

// TestTTY runs a shell on a pty: it sees a terminal of the size the
// user's has, and Ctrl-C typed on the user's terminal reaches it as
// SIGINT through the raw-mode relay.
func TestTTY(t *testing.T) {
	requireContainers(t)
	layers := testImage(t, imagetest.Busybox(t))
	master, term := openTestPty(t)
	done := make(chan result, 1)
	go func() {
		done <- runIn(t, layers, userns.Auto, func(c *Config) {
			c.Process.Tty = true
			c.Process.Rows, c.Process.Cols = TerminalSize(term, term)
			c.Stdin, c.Stdout, c.Stderr = term, term, term
		}, "sh", "-c", `trap 'echo got-INT; exit 7' INT; trap 'echo resized $(stty size)' WINCH; tty; stty size; echo ready; while :; do sleep 0.1; done`)
	}()
	rd := bufio.NewReader(master)
	var lines []string
	for {
		line, err := rd.ReadString('\n')
		if err != nil {
			t.Fatalf("read the terminal: %v (so far %q)", err, lines)
		}
		line = strings.TrimRight(line, "\r\n")
		lines = append(lines, line)
		if line == "ready" {
			break
		}
	}
	// The user's terminal changes size: the terminal's SIGWINCH reaches
	// nook (here the test process, which is the monitor), which resizes
	// the container's pty; the shell there hears of it.
	if err := unix.IoctlSetWinsize(int(term.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 40, Col: 120}); err != nil {
		t.Fatal(err)
	}
	if err := unix.Kill(os.Getpid(), unix.SIGWINCH); err != nil {
		t.Fatal(err)
	}
	for {
		line, err := rd.ReadString('\n')
		if err != nil {
			t.Fatalf("read the terminal after the resize: %v (so far %q)", err, lines)
		}
		if strings.HasPrefix(line, "resized") {
			if got := strings.TrimSpace(line); got != "resized 40 120" {
				t.Errorf("after the resize the container sees %q, want 40 120", got)
			}
			break
		}
	}
	if _, err := master.Write([]byte{3}); err != nil { // Ctrl-C
		t.Fatal(err)
	}
	for {
		line, err := rd.ReadString('\n')
		if err != nil {
			t.Fatalf("read the terminal after Ctrl-C: %v (so far %q)", err, lines)
		}
		if strings.Contains(line, "got-INT") {
			break
		}
	}
	r := <-done
	if r.err != nil || r.code != 7 {
		t.Fatalf("status %d, error %v; want 7 from the INT trap", r.code, r.err)
	}
	if len(lines) < 3 || lines[0] != "/dev/pts/0" || lines[1] != "31 101" {
		t.Errorf("terminal output %q, want /dev/pts/0 and size 31 101", lines)
	}
}

// TestTerminalNotHandedOver: without -t the container gets pipes for the
// user's terminal, as Docker gives it, and its output still arrives.
func TestTerminalNotHandedOver(t *testing.T) {
	requireContainers(t)
	layers := testImage(t, imagetest.Busybox(t))
	master, term := openTestPty(t)
	r := runIn(t, layers, userns.Auto, func(c *Config) {
		c.Stdout, c.Stderr = term, term
	}, "sh", "-c", `test -t 1 && echo "stdout is a terminal"; test -t 0 && echo "stdin is a terminal"; echo done`)
	if r.err != nil || r.code != 0 {
		t.Fatalf("status %d, %v", r.code, r.err)
	}
	out, err := bufio.NewReader(master).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(out) != "done" {
		t.Errorf("container saw a terminal: first line %q, want done", out)
	}
}

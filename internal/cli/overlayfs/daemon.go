package overlayfs

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// Without -f, nook-overlayfs returns only once the mount is live, as
// fuse-overlayfs does, so that callers (mount(8), Podman) can use it at
// once. The parent re-executes itself as a daemon and waits on a pipe:
//
//	step  parent (the command the caller ran)      daemon (role daemonRole, fd 3 = pipe)
//	1     checks the command line, prints notices
//	2     starts /proc/self/exe daemonRole ARGS...  new session (setsid), cwd /
//	3                                               mounts the union
//	4                                               stdio → /dev/null, writes "ready\n", closes fd 3
//	   or                                           writes "error: MESSAGE\n", exits 1
//	5     "ready": exits 0; "error: …": prints it,
//	      exits 1; EOF alone: reports the daemon's
//	      exit status, exits 1
//
// The daemon then serves until it is unmounted or signalled.
const (
	// daemonRole is os.Args[1] of the daemon, looked at before any parsing.
	daemonRole = "__daemon"
	// readyFD is the pipe to the parent in the daemon.
	readyFD  = 3
	msgReady = "ready\n"
	msgError = "error: "
)

// startDaemon runs step 2 and 5 of the protocol in the parent.
func startDaemon(args []string, stderr io.Writer) error {
	r, w, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("start daemon: %w", err)
	}
	defer r.Close()
	cmd := exec.Command("/proc/self/exe", append([]string{daemonRole}, args...)...)
	// Keep the name the command was run by: under testscript it is what
	// picks the command, and ps shows what the user ran.
	cmd.Args[0] = os.Args[0]
	cmd.ExtraFiles = []*os.File{w} // fd 3
	// Until it is ready the daemon's own errors (a crash) go where ours go.
	// Only a real file is passed: with a pipe Go would copy in a goroutine
	// this process does not wait for.
	if f, ok := stderr.(*os.File); ok {
		cmd.Stderr = f
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		w.Close()
		return fmt.Errorf("start daemon: %w", err)
	}
	w.Close()
	msg, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("read the daemon's status: %w", err)
	}
	switch {
	case string(msg) == msgReady:
		return cmd.Process.Release()
	case bytes.HasPrefix(msg, []byte(msgError)):
		_ = cmd.Wait()
		return errors.New(strings.TrimSpace(strings.TrimPrefix(string(msg), msgError)))
	default:
		werr := cmd.Wait()
		return fmt.Errorf("the daemon exited before the mount was ready (%v)", werr)
	}
}

// runDaemon is the daemon's side: mount, report, serve.
func runDaemon(args []string, stderr io.Writer) int {
	pipe := os.NewFile(readyFD, "ready pipe")
	// Nothing the daemon runs (fusermount3) may hold the parent waiting.
	unix.CloseOnExec(readyFD)
	report := func(err error) int {
		fmt.Fprintf(pipe, "%s%s\n", msgError, oneLine(err))
		pipe.Close()
		return 1
	}
	o, err := Parse(args)
	if err != nil {
		return report(err)
	}
	p, err := check(o)
	if err != nil {
		return report(err)
	}
	// Every path is absolute now; a daemon must not keep a directory busy.
	if err := os.Chdir("/"); err != nil {
		return report(fmt.Errorf("change directory to /: %w", err))
	}
	sent := false
	err = serve(p, stderr, func() {
		if err := toDevNull(); err != nil {
			fmt.Fprintf(stderr, "nook-overlayfs: %v\n", err)
		}
		pipe.WriteString(msgReady)
		pipe.Close()
		sent = true
	})
	switch {
	case err != nil && !sent:
		return report(err)
	case err != nil:
		return 1 // stderr is /dev/null by now; nobody is left to tell
	}
	return 0
}

// toDevNull points stdin, stdout and stderr at /dev/null, so the daemon
// holds no terminal and no pipe of the caller's (a caller reading our
// stderr to EOF, as Podman does, would wait forever).
func toDevNull() error {
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("open %s: %w", os.DevNull, err)
	}
	defer null.Close()
	for fd := 0; fd <= 2; fd++ {
		if err := unix.Dup3(int(null.Fd()), fd, 0); err != nil {
			return fmt.Errorf("redirect fd %d to %s: %w", fd, os.DevNull, err)
		}
	}
	return nil
}

// oneLine keeps an error message to one line for the pipe and the terminal.
func oneLine(err error) string {
	return strings.ReplaceAll(strings.TrimSpace(err.Error()), "\n", "; ")
}

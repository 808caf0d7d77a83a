package run

import (
	"fmt"
	"io"
	"os"
	"os/signal"

	"golang.org/x/sys/unix"
	"golang.org/x/term"
)

// ttyRelay copies between the user's terminal (or whatever stdin and
// stdout are) and the container's pty master, with the user's terminal in
// raw mode so that Ctrl-C and friends reach the container as bytes.
type ttyRelay struct {
	master    *os.File
	out       chan struct{}
	restore   func()
	stopWinch func()
}

func startTTYRelay(fd int, stdin, stdout *os.File) (*ttyRelay, error) {
	t := &ttyRelay{master: os.NewFile(uintptr(fd), "pty"), out: make(chan struct{}), restore: func() {}, stopWinch: func() {}}
	if stdin != nil && term.IsTerminal(int(stdin.Fd())) {
		old, err := term.MakeRaw(int(stdin.Fd()))
		if err != nil {
			return nil, fmt.Errorf("put the terminal in raw mode: %w", err)
		}
		t.restore = func() { term.Restore(int(stdin.Fd()), old) }
	}
	if stdout != nil {
		if sizeFrom := terminalOf(stdin, stdout); sizeFrom >= 0 {
			winch := make(chan os.Signal, 1)
			signal.Notify(winch, unix.SIGWINCH)
			done := make(chan struct{})
			go func() {
				for {
					select {
					case <-winch:
						if ws, err := unix.IoctlGetWinsize(sizeFrom, unix.TIOCGWINSZ); err == nil {
							unix.IoctlSetWinsize(int(t.master.Fd()), unix.TIOCSWINSZ, ws)
						}
					case <-done:
						return
					}
				}
			}()
			t.stopWinch = func() { signal.Stop(winch); close(done) }
		}
	}
	if stdin != nil {
		go io.Copy(t.master, stdin)
	}
	go func() {
		if stdout != nil {
			io.Copy(stdout, t.master)
		}
		close(t.out)
	}()
	return t, nil
}

// terminalOf returns the descriptor of whichever of in and out is a
// terminal, or -1.
func terminalOf(in, out *os.File) int {
	for _, f := range []*os.File{in, out} {
		if f != nil && term.IsTerminal(int(f.Fd())) {
			return int(f.Fd())
		}
	}
	return -1
}

// TerminalSize is the size of whichever of in and out is a terminal.
func TerminalSize(in, out *os.File) (rows, cols uint16) {
	fd := terminalOf(in, out)
	if fd < 0 {
		return 0, 0
	}
	ws, err := unix.IoctlGetWinsize(fd, unix.TIOCGWINSZ)
	if err != nil {
		return 0, 0
	}
	return ws.Row, ws.Col
}

// wait returns once the container's side of the pty is closed and its
// output copied, and gives the user's terminal back.
func (t *ttyRelay) wait() {
	<-t.out
	t.stopWinch()
	t.restore()
	t.master.Close()
}

// stop gives the user's terminal back without waiting for the output.
func (t *ttyRelay) stop() {
	t.stopWinch()
	t.restore()
	t.master.Close()
}

package run

import (
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// serveAttach streams a detached container's output to one nook attach
// and its input (with -i) to the workload, until the workload ends or
// the client goes.
func (s *Supervisor) serveAttach(f *os.File, req ctlRequest) {
	if s.fanout == nil {
		sendPacket(f, ctlReply{Type: ctlError, Error: fmt.Sprintf("container %s runs in the foreground: its output goes to the terminal that started it (attach works with containers started by run -d or start)", s.Container.Name)}, nil)
		return
	}
	s.mu.Lock()
	running := s.cur >= 0
	s.mu.Unlock()
	if !running {
		sendPacket(f, ctlReply{Type: ctlError, Error: fmt.Sprintf("%v: %s", ErrNotRunning, s.Container.Name)}, nil)
		return
	}
	s.attachConn(f, req.Stdin)()
}

// attachConn registers f as an attached client at once (nook start -a
// before the workload starts, so that none of its output is missed) and
// returns the loop that serves it.
func (s *Supervisor) attachConn(f *os.File, stdin bool) func() {
	c := &attachClient{out: make(chan ctlReply, 256), done: make(chan struct{})}
	s.fanout.mu.Lock()
	s.fanout.clients[c] = struct{}{}
	s.fanout.mu.Unlock()
	return func() { s.serveAttached(f, c, stdin) }
}

func (s *Supervisor) serveAttached(f *os.File, c *attachClient, stdin bool) {
	if err := sendPacket(f, ctlReply{Type: ctlOK}, nil); err != nil {
		s.fanout.drop(c)
		close(c.done)
		return
	}
	go func() {
		for {
			var in ctlRequest
			fds, err := recvPacket(f, &in)
			closeFDs(fds)
			if err != nil {
				s.fanout.drop(c)
				return
			}
			switch in.Type {
			case ctlData:
				if stdin {
					s.fanout.input(in.Data)
				}
			case ctlResize:
				s.fanout.resize(in.Rows, in.Cols)
			}
		}
	}()
	defer close(c.done)
	for rep := range c.out {
		if sendPacket(f, rep, nil) != nil {
			s.fanout.drop(c)
			return
		}
	}
}

// drop lets a client go.
func (f *fanout) drop(c *attachClient) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.clients[c]; ok {
		delete(f.clients, c)
		close(c.out)
	}
}

// AttachOptions are nook attach's streams.
type AttachOptions struct {
	// Stdin, when set, is sent to the workload (it must run with -i).
	Stdin io.Reader
	// Stdout and Stderr receive its output (with a tty, all of it on
	// Stdout).
	Stdout, Stderr io.Writer
	// DetachKeys end the attach without stopping the container, as
	// Docker's ctrl-p ctrl-q; nil for none.
	DetachKeys []byte
	// Resize, if set, delivers the terminal's size: first at once, then
	// on every change; closed when the attach ends.
	Resize <-chan [2]uint16
}

// ErrDetached is an attach the user ended with the detach keys.
var ErrDetached = errors.New("detached")

// Attach connects to a detached container's stdio and returns the
// workload's exit status when it ends.
func (cs *Containers) Attach(c *Container, opts AttachOptions) (int, error) {
	f, err := cs.dialControl(c)
	if err != nil {
		return exitNookError, err
	}
	defer f.Close()
	if err := sendPacket(f, ctlRequest{Type: ctlAttach, Stdin: opts.Stdin != nil}, nil); err != nil {
		return exitNookError, fmt.Errorf("attach to %s: %w", c.Name, err)
	}
	return AttachOn(f, c.Name, opts)
}

// NewAttachPair is a connection for attaching to a monitor from its very
// start (nook start -a): the monitor gets theirs, the caller keeps mine
// for AttachOn.
func NewAttachPair() (mine, theirs *os.File, err error) {
	return newSocketpair()
}

// AttachOn is Attach on a connection the monitor already serves.
func AttachOn(f *os.File, name string, opts AttachOptions) (int, error) {
	c := &Container{Name: name}
	var rep ctlReply
	if _, err := recvPacket(f, &rep); err != nil {
		return exitNookError, fmt.Errorf("attach to %s: %w", c.Name, err)
	}
	if rep.Type == ctlError {
		return exitNookError, errors.New(rep.Error)
	}
	detached := make(chan struct{})
	if opts.Stdin != nil {
		go func() {
			if sendInput(f, opts.Stdin, opts.DetachKeys) {
				close(detached)
				// Wakes the reader below (a close would not: a blocked
				// recvmsg keeps its descriptor).
				unix.Shutdown(int(f.Fd()), unix.SHUT_RDWR)
			}
		}()
	}
	if opts.Resize != nil {
		go func() {
			for sz := range opts.Resize {
				sendPacket(f, ctlRequest{Type: ctlResize, Rows: sz[0], Cols: sz[1]}, nil)
			}
		}()
	}
	for {
		var rep ctlReply
		_, err := recvPacket(f, &rep)
		if err != nil {
			select {
			case <-detached:
				return 0, ErrDetached
			default:
			}
			if errors.Is(err, io.EOF) {
				// The monitor went without a word: look at the record.
				return exitNookError, fmt.Errorf("attach to %s: its monitor ended", c.Name)
			}
			return exitNookError, fmt.Errorf("attach to %s: %w", c.Name, err)
		}
		switch rep.Type {
		case ctlData:
			w := opts.Stdout
			if rep.Stream == "stderr" && opts.Stderr != nil {
				w = opts.Stderr
			}
			if w != nil {
				w.Write(rep.Data)
			}
		case ctlExit:
			return rep.Code, nil
		}
	}
}

// sendInput sends what the user types until the end of input or the
// detach keys (then it returns true). A started detach sequence is held
// back, so that the container never sees it.
func sendInput(f *os.File, in io.Reader, keys []byte) bool {
	buf := make([]byte, 4096)
	var held []byte
	for {
		n, err := in.Read(buf)
		var out []byte
		for _, b := range buf[:n] {
			if len(keys) > 0 && b == keys[len(held)] {
				held = append(held, b)
				if len(held) == len(keys) {
					if len(out) > 0 {
						sendPacket(f, ctlRequest{Type: ctlData, Data: out}, nil)
					}
					return true
				}
				continue
			}
			out = append(out, held...)
			held = held[:0]
			if len(keys) > 0 && b == keys[0] {
				held = append(held, b)
				continue
			}
			out = append(out, b)
		}
		if len(out) > 0 && sendPacket(f, ctlRequest{Type: ctlData, Data: out}, nil) != nil {
			return false
		}
		if err != nil {
			return false
		}
	}
}

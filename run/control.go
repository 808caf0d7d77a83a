package run

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// A running container's monitor serves a control socket in the
// container's runtime directory: nook stop, kill, exec and attach talk to
// the monitor there, which alone holds the workload as its child (so no
// signal can hit a reused pid) and its cgroup. Each connection carries one
// request; packets are JSON (packet.go), descriptors travel with them.
const controlSocket = "control.sock"

// The requests and replies.
const (
	ctlSignal = "signal" // ctlRequest.Signal, .Stop → ctlOK
	ctlStop   = "stop"   // ctlRequest.Timeout → ctlOK
	ctlExec   = "exec"   // ctlRequest.Exec + stdin, stdout, stderr → ctlPTY? … ctlExit
	ctlAttach = "attach" // → ctlData … ctlExit; client sends ctlData, ctlResize
	ctlResize = "resize" // ctlRequest.Rows, .Cols
	ctlData   = "data"   // Stream, Data
	ctlOK     = "ok"
	ctlError  = "error" // Error, Code
	ctlPTY    = "pty"   // + the pty master
	ctlExit   = "exit"  // Code
	// ctlNotRunning: the monitor is between runs or ending.
	ctlNotRunning = "not-running"
)

// ctlRequest is a client's packet.
type ctlRequest struct {
	Type    string       `json:"type"`
	Signal  int          `json:"signal,omitempty"`
	Stop    bool         `json:"stop,omitempty"`
	Timeout int          `json:"timeout,omitempty"`
	Exec    *ExecRequest `json:"exec,omitempty"`
	Stdin   bool         `json:"stdin,omitempty"`
	Rows    uint16       `json:"rows,omitempty"`
	Cols    uint16       `json:"cols,omitempty"`
	Data    []byte       `json:"data,omitempty"`
}

// ctlReply is the monitor's packet.
type ctlReply struct {
	Type   string `json:"type"`
	Error  string `json:"error,omitempty"`
	Code   int    `json:"code,omitempty"`
	Stream string `json:"stream,omitempty"`
	Data   []byte `json:"data,omitempty"`
}

type controlServer struct {
	ln *net.UnixListener
}

// listenControl serves s's control socket in dir.
func listenControl(dir string, s *Supervisor) (*controlServer, error) {
	p := filepath.Join(dir, controlSocket)
	os.Remove(p)
	addr, done, err := socketAddr(p)
	if err != nil {
		return nil, fmt.Errorf("listen on the container's control socket: %w", err)
	}
	ln, err := net.ListenUnix("unixpacket", &net.UnixAddr{Name: addr, Net: "unixpacket"})
	done()
	if err != nil {
		return nil, fmt.Errorf("listen on the container's control socket: %w", err)
	}
	// Removed with the runtime directory: the name the listener knows
	// may be a /proc/self/fd one.
	ln.SetUnlinkOnClose(false)
	go func() {
		for {
			conn, err := ln.AcceptUnix()
			if err != nil {
				return
			}
			f, err := conn.File()
			conn.Close()
			if err != nil {
				continue
			}
			go s.serve(f)
		}
	}()
	return &controlServer{ln: ln}, nil
}

func (c *controlServer) close() { c.ln.Close() }

// serve answers one connection.
func (s *Supervisor) serve(f *os.File) {
	defer f.Close()
	var req ctlRequest
	fds, err := recvPacket(f, &req)
	if err != nil {
		return
	}
	reply := func(err error) {
		if err != nil {
			sendPacket(f, ctlReply{Type: ctlError, Error: err.Error()}, nil)
			return
		}
		sendPacket(f, ctlReply{Type: ctlOK}, nil)
	}
	switch req.Type {
	case ctlSignal:
		closeFDs(fds)
		reply(s.signal(syscall.Signal(req.Signal), req.Stop))
	case ctlStop:
		closeFDs(fds)
		reply(s.stop(time.Duration(req.Timeout) * time.Second))
	case ctlExec:
		s.serveExec(f, req.Exec, fds)
	case ctlAttach:
		closeFDs(fds)
		s.serveAttach(f, req)
	default:
		closeFDs(fds)
		reply(fmt.Errorf("unknown request %q", req.Type))
	}
}

// dialControl connects to a running container's monitor.
func (cs *Containers) dialControl(c *Container) (*os.File, error) {
	if cs.runtimeDir == "" {
		return nil, fmt.Errorf("container %s: no runtime directory to find its monitor in", c.Name)
	}
	p := filepath.Join(cs.runtimeDir, c.ID, controlSocket)
	addr, done, err := socketAddr(p)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%w: %s", ErrNotRunning, c.Name)
		}
		return nil, fmt.Errorf("reach container %s's monitor: %w", c.Name, err)
	}
	conn, err := net.DialUnix("unixpacket", nil, &net.UnixAddr{Name: addr, Net: "unixpacket"})
	done()
	if err != nil {
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, unix.ECONNREFUSED) {
			return nil, fmt.Errorf("%w: %s", ErrNotRunning, c.Name)
		}
		return nil, fmt.Errorf("reach container %s's monitor: %w", c.Name, err)
	}
	defer conn.Close()
	f, err := conn.File()
	if err != nil {
		return nil, fmt.Errorf("reach container %s's monitor: %w", c.Name, err)
	}
	return f, nil
}

// request sends one request and waits for the monitor's ok.
func (cs *Containers) request(c *Container, req ctlRequest) error {
	f, err := cs.dialControl(c)
	if err != nil {
		return err
	}
	defer f.Close()
	// A monitor that is stopped (SIGSTOP) or hung must not hang us: its
	// answer is due at once.
	tv := unix.NsecToTimeval(int64(answerTimeout))
	unix.SetsockoptTimeval(int(f.Fd()), unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
	unix.SetsockoptTimeval(int(f.Fd()), unix.SOL_SOCKET, unix.SO_SNDTIMEO, &tv)
	if err := sendPacket(f, req, nil); err != nil {
		return fmt.Errorf("ask container %s's monitor: %w", c.Name, err)
	}
	var rep ctlReply
	if _, err := recvPacket(f, &rep); err != nil {
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("%w: %s", ErrNotRunning, c.Name)
		}
		return fmt.Errorf("ask container %s's monitor: %w", c.Name, err)
	}
	if rep.Type == ctlError {
		return errors.New(rep.Error)
	}
	return nil
}

// answerTimeout bounds the wait for a monitor's answer to a request.
const answerTimeout = 5 * time.Second

// Signal sends sig to a running container's first process. stop marks
// it stopped by the user: its restart policy does not start it again.
func (cs *Containers) Signal(c *Container, sig syscall.Signal, stop bool) error {
	return cs.request(c, ctlRequest{Type: ctlSignal, Signal: int(sig), Stop: stop})
}

// Stop sends a running container its stop signal and SIGKILL after
// timeout, and waits until its monitor has recorded its end.
func (cs *Containers) Stop(c *Container, timeout time.Duration) error {
	err := cs.request(c, ctlRequest{Type: ctlStop, Timeout: int(timeout / time.Second)})
	if errors.Is(err, ErrNotRunning) {
		return nil
	}
	if err != nil {
		return err
	}
	return cs.Wait(c)
}

// Wait returns once the container's monitor has ended (it records the
// exit before it lets go of the lock), with the record reloaded.
func (cs *Containers) Wait(c *Container) error {
	if c.lock != nil {
		return fmt.Errorf("wait for container %s: this nook runs it", c.Name)
	}
	f, err := os.Open(filepath.Join(c.dir, "lock"))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil // removed meanwhile (--rm)
		}
		return fmt.Errorf("wait for container %s: %w", c.Name, err)
	}
	defer f.Close()
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_SH)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("wait for container %s: %w", c.Name, err)
	}
	unix.Flock(int(f.Fd()), unix.LOCK_UN)
	if fresh, err := cs.load(c.ID); err == nil {
		*c = *fresh
	}
	return nil
}

// socketAddr is a name for the unix socket at p that fits sockaddr_un's
// 108 bytes: p itself, or, when the runtime directory's path is long (a
// deep $TMPDIR), p's directory through a descriptor: /proc/self/fd/N/NAME.
// done closes the descriptor once bind or connect has used it.
func socketAddr(p string) (addr string, done func(), err error) {
	if len(p) < 100 {
		return p, func() {}, nil
	}
	fd, err := unix.Open(filepath.Dir(p), unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return "", nil, err
	}
	return fmt.Sprintf("/proc/self/fd/%d/%s", fd, filepath.Base(p)), func() { unix.Close(fd) }, nil
}

package run

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/nookrun/nook/network"
)

// The monitor and the child talk over one SOCK_SEQPACKET socketpair: each
// message is one JSON object in one packet, with at most one descriptor
// attached by SCM_RIGHTS.
//
//	monitor (host namespaces)              child (new namespaces)
//	─────────────────────────              ──────────────────────
//	start child (clone NEWUSER|NEWNS|...)  stage 1: no capabilities yet
//	write uid/gid maps
//	msgMapped ─────────────────────────▶   re-exec itself → stage 2 (capabilities)
//	msgSpec ───────────────────────────▶   (read by stage 2) open /dev/fuse, mount it
//	                                  ◀─── msgFUSE + /dev/fuse fd
//	serve the union on the fd
//	msgServing (+ tap to configure) ───▶   /proc, /dev, /sys, volumes, pivot_root,
//	                                       hostname, network, user, capabilities
//	                                  ◀─── msgPTY + pty master fd (with -t)
//	                                  ◀─── msgExecError (on failure: what and exit code)
//	                                       exec the workload: the socket (close-on-exec)
//	                                       closes, which tells the monitor it started
const (
	msgMapped    = "mapped"
	msgSpec      = "spec"
	msgFUSE      = "fuse"
	msgServing   = "serving"
	msgPTY       = "pty"
	msgExecError = "exec-error"
	// msgStarting is RoleExec's word that it executes the command now.
	msgStarting = "starting"
	msgError    = "error"
)

// message is one packet. Only the fields of its Type are set.
type message struct {
	Type string `json:"type"`
	// Spec is msgSpec's payload.
	Spec *childSpec `json:"spec,omitempty"`
	// Error and Code are msgError's and msgExecError's: what went wrong
	// and the exit status nook reports for it.
	Error string `json:"error,omitempty"`
	Code  int    `json:"code,omitempty"`
	// Interface is msgServing's: the tap the child configures, when the
	// network driver left that to it.
	Interface *network.Interface `json:"interface,omitempty"`
}

// channel is one end of the socketpair.
type channel struct{ f *os.File }

func newSocketpair() (monitor, child *os.File, err error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("create socketpair: %w", err)
	}
	return os.NewFile(uintptr(fds[0]), "monitor"), os.NewFile(uintptr(fds[1]), "child"), nil
}

// send writes m with fd (-1 for none) attached.
func (c channel) send(m message, fd int) error {
	var fds []int
	if fd >= 0 {
		fds = []int{fd}
	}
	if err := sendPacket(c.f, m, fds); err != nil {
		return fmt.Errorf("send %s message: %w", m.Type, err)
	}
	return nil
}

// recv reads one message and the descriptor attached to it (-1 for none).
// It returns io.EOF when the other end closed.
func (c channel) recv() (message, int, error) {
	var m message
	fds, err := recvPacket(c.f, &m)
	if err != nil {
		return m, -1, err
	}
	fd := -1
	for i, f := range fds {
		if i == 0 {
			fd = f
		} else {
			unix.Close(f)
		}
	}
	return m, fd, nil
}

// expect reads the next message and checks its type; a msgError from the
// other side comes back as an error.
func (c channel) expect(typ string) (message, int, error) {
	m, fd, err := c.recv()
	if err != nil {
		return m, fd, err
	}
	if m.Type == msgError {
		return m, fd, errors.New(m.Error)
	}
	if m.Type != typ {
		if fd >= 0 {
			unix.Close(fd)
		}
		return m, -1, fmt.Errorf("expected %s message, got %s", typ, m.Type)
	}
	return m, fd, nil
}

package network

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/rootless-containers/rootlesskit/v2/pkg/port"
	opaquekeys "github.com/rootless-containers/rootlesskit/v2/pkg/port/builtin/opaque"
	"github.com/rootless-containers/rootlesskit/v2/pkg/port/builtin/parent"
)

// RolePortHelper is the hidden role of the nook binary that runs the
// child half of the builtin port driver inside a container's network
// namespace (PortHelperMain).
const RolePortHelper = "__port-helper"

// forwardPorts publishes ports with rootlesskit's builtin port driver:
// its parent half listens on the host here, in the monitor; its child
// half is the port helper, which nsenter starts in the container's user
// and network namespaces (and no other: the workload never sees it).
// Connections are dialled to the container's address, so a server
// listening on the container's loopback only is not reachable, as with
// Docker.
func (a *Attached) forwardPorts(s Setup, pid int, ports []PortMapping) error {
	dir, err := socketDir(s.StateDir)
	if err != nil {
		return fmt.Errorf("start the port driver: %w", err)
	}
	if dir != s.StateDir {
		a.closers = append(a.closers, func() error { return os.RemoveAll(dir) })
	}
	out := &tailBuffer{}
	d, err := parent.NewDriver(logTo(out, s.Log), dir)
	if err != nil {
		return fmt.Errorf("start the port driver: %w", err)
	}
	opaque := d.OpaqueForChild()
	// The helper ends when this pipe's write end closes: when Close
	// says so, or when the monitor dies.
	quitR, quitW, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("start the port helper: %w", err)
	}
	defer quitR.Close()
	cmd := exec.Command("nsenter", "--target", strconv.Itoa(pid), "--user", "--net", "--preserve-credentials", "--",
		s.Exe, RolePortHelper, opaque[opaquekeys.SocketPath], opaque[opaquekeys.ChildReadyPipePath], strconv.Itoa(os.Getpid()))
	cmd.Stdin, cmd.Stderr = quitR, logTo(out, s.Log)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		quitW.Close()
		if errors.Is(err, exec.ErrNotFound) {
			return fmt.Errorf("start the port helper: nsenter is not installed (it is in util-linux): %w", err)
		}
		return fmt.Errorf("start the port helper: %w", err)
	}
	helperDone := make(chan error, 1)
	go func() { helperDone <- cmd.Wait() }()
	quitParent := make(chan struct{})
	a.closers = append(a.closers, func() error {
		quitW.Close()
		close(quitParent)
		<-helperDone
		return nil
	})

	ready := make(chan struct{}, 1)
	parentErr := make(chan error, 1)
	go func() { parentErr <- d.RunParentDriver(ready, quitParent, nil) }()
	select {
	case <-ready:
	case err := <-parentErr:
		return fmt.Errorf("start the port driver: %w", err)
	case err := <-helperDone:
		helperDone <- err
		return fmt.Errorf("the port helper ended before it was ready: %v: %s", err, oneLine(out.String()))
	case <-time.After(driverStartTimeout):
		return fmt.Errorf("the port helper did not start within %s", driverStartTimeout)
	}
	for _, m := range ports {
		st, err := d.AddPort(context.Background(), port.Spec{
			Proto:      portProto(m),
			ParentIP:   m.HostIP,
			ParentPort: int(m.HostPort),
			ChildIP:    ContainerIP,
			ChildPort:  int(m.ContainerPort),
		})
		if err != nil {
			return fmt.Errorf("publish %s: %w", m, err)
		}
		id := st.ID
		a.closers = append(a.closers, func() error {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			return d.RemovePort(ctx, id)
		})
	}
	return nil
}

// portProto is the builtin driver's protocol: IPv4 only, as the
// container's network is, unless the host address is IPv6.
func portProto(m PortMapping) string {
	if m.HostIP != "" && netip.MustParseAddr(m.HostIP).Is6() {
		return m.Protocol + "6"
	}
	return m.Protocol + "4"
}

// maxSocketPath is the longest unix socket path that fits sockaddr_un
// (108 bytes with the terminating NUL).
const maxSocketPath = 107

// socketDir is where the port driver's socket and pipe go: the state
// directory, or a short one of its own in the temporary directory when
// the state directory's path is too long for a socket.
func socketDir(stateDir string) (string, error) {
	if len(filepath.Join(stateDir, ".bp-ready.pipe")) <= maxSocketPath {
		return stateDir, nil
	}
	return os.MkdirTemp("", "nook-ports-")
}

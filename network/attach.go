package network

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// Addresses of the container's side of a pasta or slirp4netns network
// (rootlesskit's layout; see the package comment).
const (
	tapName     = "tap0"
	ContainerIP = "10.0.2.100"
	prefixLen   = 24
	GatewayIP   = "10.0.2.2"
	DNSIP       = "10.0.2.3"
	// MTU is the tap's: the largest 802.3 frame, as Podman and rootlesskit
	// use, which is what makes the user-mode stacks fast.
	MTU = 65520
)

// driverStartTimeout bounds the wait for a driver or helper to be ready;
// each signals readiness, so this only ends a wait for one that hangs.
const driverStartTimeout = 30 * time.Second

// Setup is a container's network as decided before it starts.
type Setup struct {
	Mode Mode
	// Joined is the network kind of the container whose namespace a
	// container:NAME mode shares, for its /etc/hosts and resolv.conf.
	Joined Kind
	// Binary is the driver's path and PastaOld says a pasta is too old
	// to forward UDP (both set by Binaries.Resolve).
	Binary   string
	PastaOld bool
	// Ports are the published ports, their host ports reserved
	// (ReserveHostPorts).
	Ports []PortMapping
	// StateDir is the container's runtime directory: the port driver's
	// socket goes there.
	StateDir string
	// Exe is the nook binary, which the port helper runs.
	Exe string
	// Log, if set, receives the drivers' diagnostics as well; errors
	// quote their last lines anyway.
	Log io.Writer
}

// Interface is the container's tap device as the driver made it. When
// Configure is set the container's first process gives it its address,
// MTU and default route (slirp4netns leaves that to its user; pasta does
// it itself).
type Interface struct {
	Dev       string `json:"dev"`
	IP        string `json:"ip"`
	PrefixLen int    `json:"prefixLen"`
	Gateway   string `json:"gateway"`
	MTU       int    `json:"mtu"`
	Configure bool   `json:"configure,omitempty"`
}

// Attached is a running network driver and its port forwarding.
type Attached struct {
	// Interface is nil for modes without a tap.
	Interface *Interface
	closers   []func() error
}

// Close stops the driver and the port forwarding and releases the host
// ports. It is safe on a partly attached network.
func (a *Attached) Close() error {
	var errs []error
	for i := len(a.closers) - 1; i >= 0; i-- {
		if err := a.closers[i](); err != nil {
			errs = append(errs, err)
		}
	}
	a.closers = nil
	return errors.Join(errs...)
}

// Attach starts the driver for the container whose first process is pid,
// once that process's user namespace has its id maps, and publishes the
// ports. On failure nothing it started is left running.
func Attach(s Setup, pid int) (*Attached, error) {
	a := &Attached{}
	var err error
	switch s.Mode.Kind {
	case Pasta:
		err = a.startPasta(s, pid)
	case Slirp4netns:
		err = a.startSlirp4netns(s, pid)
	default:
		if len(s.Ports) > 0 {
			err = fmt.Errorf("--publish needs a network of the container's own (--network pasta or slirp4netns), not %s", s.Mode)
		}
	}
	if err != nil {
		a.Close()
		return nil, err
	}
	return a, nil
}

// tailBuffer keeps the last few KiB written to it: a driver's output, for
// the error when it fails.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
}

const tailMax = 4096

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > tailMax {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-tailMax:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}

// logTo is where a driver's output goes: t, and log when set.
func logTo(t *tailBuffer, log io.Writer) io.Writer {
	if log == nil {
		return t
	}
	return io.MultiWriter(t, log)
}

// oneLine joins a driver's output into one line for an error.
func oneLine(out string) string {
	return strings.Join(strings.Fields(out), " ")
}

// EtcKind is the network kind the container's /etc files are written
// for: the joined container's for container:NAME.
func (s Setup) EtcKind() Kind {
	if s.Mode.Kind == Container {
		return s.Joined
	}
	return s.Mode.Kind
}

package network

import (
	"fmt"

	"github.com/rootless-containers/rootlesskit/v2/pkg/network/slirp4netns"
)

// startSlirp4netns runs slirp4netns for pid's network namespace through
// rootlesskit's driver, which makes the tap (with nsenter and ip, before
// the container's first process has mounted anything, so that the host's
// ip runs), starts slirp4netns on it and waits until it is ready. The
// container's first process then configures the tap (Interface.Configure).
func (a *Attached) startSlirp4netns(s Setup, pid int) error {
	feat, err := slirp4netns.DetectFeatures(s.Binary)
	if err != nil {
		return fmt.Errorf("start slirp4netns: %w", err)
	}
	// The sandbox (slirp4netns in an empty mount namespace) and the
	// seccomp filter are what Podman runs it with; both only when this
	// slirp4netns and kernel have them.
	sandbox := feat.SupportsEnableSandbox
	seccomp := feat.SupportsEnableSeccomp && feat.KernelSupportsEnableSeccomp
	out := &tailBuffer{}
	d, err := slirp4netns.NewParentDriver(logTo(out, s.Log), s.Binary, MTU, nil, tapName, false, "", sandbox, seccomp, false)
	if err != nil {
		return fmt.Errorf("start slirp4netns: %w", err)
	}
	msg, cleanup, err := d.ConfigureNetwork(pid, s.StateDir, "")
	if cleanup != nil {
		a.closers = append(a.closers, cleanup)
	}
	if err != nil {
		return fmt.Errorf("start slirp4netns: %w: %s", err, oneLine(out.String()))
	}
	a.Interface = &Interface{Dev: msg.Dev, IP: msg.IP, PrefixLen: msg.Netmask, Gateway: msg.Gateway, MTU: msg.MTU, Configure: true}
	if msg.IP != ContainerIP {
		return fmt.Errorf("slirp4netns gave the container %s, not %s", msg.IP, ContainerIP)
	}
	if len(s.Ports) > 0 {
		return a.forwardPorts(s, pid, s.Ports)
	}
	return nil
}

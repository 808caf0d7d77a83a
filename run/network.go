package run

import (
	"github.com/nookrun/nook/network"
)

// attachResult is a network attach that ran beside the union's mount.
type attachResult struct {
	a   *network.Attached
	err error
}

// attachNetwork starts the container's network driver, when it has one,
// on a goroutine; waitNetwork collects it. The child's id maps are
// written by now, which the drivers need to join its namespaces.
func (r *running) attachNetwork() <-chan attachResult {
	if !r.cfg.Network.Mode.Private() {
		return nil
	}
	ch := make(chan attachResult, 1)
	go func() {
		a, err := network.Attach(r.cfg.Network, r.child.pid)
		ch <- attachResult{a, err}
	}()
	return ch
}

// waitNetwork waits for attachNetwork and returns the tap the child is
// to configure (nil when the driver did, or there is none). From then
// on finish stops the driver.
func (r *running) waitNetwork(ch <-chan attachResult) (*network.Interface, error) {
	if ch == nil {
		return nil, nil
	}
	res := <-ch
	if res.err != nil {
		return nil, res.err
	}
	r.net = res.a
	if iface := res.a.Interface; iface != nil && iface.Configure {
		return iface, nil
	}
	return nil, nil
}

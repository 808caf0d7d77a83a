package bench

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// A pullPeer is one way of pulling the image into an empty store.
type pullPeer struct {
	name string
	// args is the timed command; env is added to the user's environment
	// (pullEnv adds what makes each pull's store new).
	args []string
	env  []string
	// unavailable says why the peer cannot run here (a skip); broken,
	// why its setup failed (a failure).
	unavailable string
	broken      error
	// fresh, run untimed before each pull, returns the environment that
	// gives the pull an empty store; reset, run untimed after each pull,
	// checks the image arrived and empties the store again.
	fresh func(i int) ([]string, error)
	reset func() error
}

// pullPeers prepares every peer, in the report's column order, on top of
// BenchmarkRun's peer setup: the same private stores and configuration.
func pullPeers(pe *pullEnv) []pullPeer {
	return []pullPeer{nookPullPeer(pe), podmanPullPeer(pe)}
}

// nookPullPeer: `nook pull -q` from this checkout, each pull into a new
// empty store (its own XDG_DATA_HOME), removed after the pull.
func nookPullPeer(pe *pullEnv) pullPeer {
	rp := nookPeer(pe.re)
	p := pullPeer{name: "nook", env: rp.env, unavailable: rp.unavailable, broken: rp.broken}
	if p.unavailable != "" || p.broken != nil {
		return p
	}
	if _, err := pe.re.host.run(p.env, pe.re.nookBin, "pull", "--help"); err != nil {
		p.unavailable = fmt.Sprintf("this nook has no pull command yet: %v", err)
		return p
	}
	p.args = []string{pe.re.nookBin, "pull", "-q", pe.reg.ref}
	var data string
	p.fresh = func(i int) ([]string, error) {
		var err error
		data, err = pe.re.privateDir("nook-pull", strconv.Itoa(i))
		if err != nil {
			return nil, err
		}
		return []string{"XDG_DATA_HOME=" + data}, nil
	}
	p.reset = func() error {
		env := append(p.env, "XDG_DATA_HOME="+data)
		out, err := pe.re.host.output(env, pe.re.nookBin, "images", "-q")
		if err != nil {
			return err
		}
		if n := len(strings.Fields(out)); n != 1 {
			return fmt.Errorf("after nook pull, nook images -q lists %d images, want 1", n)
		}
		idx, err := filepath.Glob(filepath.Join(data, "nook", "layers", "*.idx"))
		if err != nil || len(idx) != pe.reg.layers {
			return fmt.Errorf("after nook pull, the store holds %d indexed layers (%v), want %d", len(idx), err, pe.reg.layers)
		}
		if err := os.RemoveAll(data); err != nil {
			return fmt.Errorf("remove the pull's store: %w", err)
		}
		return nil
	}
	return p
}

// podmanPullPeer: `podman pull -q --tls-verify=false`, rootless, on
// BenchmarkRun's private podman store and configuration (fuse-overlayfs,
// runc); `podman rmi -a -f` empties the store after each pull.
func podmanPullPeer(pe *pullEnv) pullPeer {
	rp := podmanPeer(pe.re)
	p := pullPeer{name: "podman", env: rp.env, unavailable: rp.unavailable, broken: rp.broken}
	if p.unavailable != "" || p.broken != nil {
		return p
	}
	p.args = []string{"podman", "pull", "-q", "--tls-verify=false", pe.reg.ref}
	p.fresh = func(int) ([]string, error) {
		return nil, podmanEmpty(pe, p.env)
	}
	p.reset = func() error {
		if _, err := pe.re.host.run(p.env, "podman", "image", "exists", pe.reg.ref); err != nil {
			return fmt.Errorf("after podman pull, the image is not there: %w", err)
		}
		// Also proves podmanEmpty reads the right layer list.
		if layers, err := podmanLayers(pe); err != nil || len(layers) == 0 {
			return fmt.Errorf("after podman pull, its layer list is empty or unreadable (%v)", err)
		}
		if _, err := pe.re.host.run(p.env, "podman", "rmi", "-a", "-f"); err != nil {
			return err
		}
		return podmanEmpty(pe, p.env)
	}
	// BenchmarkRun's setup loaded busybox; the first pull must not find
	// anything in the store.
	if _, err := pe.re.host.run(p.env, "podman", "rmi", "-a", "-f"); err != nil {
		p.broken = fmt.Errorf("empty podman's store: %w", err)
	}
	return p
}

// podmanEmpty checks that podman's store holds no image and no layer.
func podmanEmpty(pe *pullEnv, env []string) error {
	out, err := pe.re.host.output(env, "podman", "images", "-a", "-q")
	if err != nil {
		return err
	}
	if ids := strings.Fields(out); len(ids) > 0 {
		return fmt.Errorf("podman's store still holds images %s", strings.Join(ids, " "))
	}
	// Layers no image uses would make the next pull skip them.
	layers, err := podmanLayers(pe)
	if err != nil {
		return err
	}
	if len(layers) > 0 {
		return fmt.Errorf("podman's store still holds %d layers", len(layers))
	}
	return nil
}

// podmanLayers lists the layers in podman's store, from
// containers/storage's overlay-layers/layers.json (none when it is
// missing: a store that never held a layer).
func podmanLayers(pe *pullEnv) ([]json.RawMessage, error) {
	path := filepath.Join(pe.re.dir, "p", "storage", "overlay-layers", "layers.json")
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read podman's layer list: %w", err)
	}
	var layers []json.RawMessage
	if err := json.Unmarshal(b, &layers); err != nil {
		return nil, fmt.Errorf("read podman's layer list %s: %w", path, err)
	}
	return layers, nil
}

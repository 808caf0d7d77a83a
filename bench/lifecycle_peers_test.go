package bench

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// A lifecyclePeer is one runtime's detached containers: nook's or
// podman's, each with the store BenchmarkRun's peer prepared (private,
// the busybox image loaded).
type lifecyclePeer struct {
	name string
	bin  string // the runtime's command: this checkout's nook, or podman
	env  []string
	// unavailable says why the peer cannot run here (a skip); broken,
	// why its setup failed (a failure).
	unavailable string
	broken      error
	// procs finds the processes of the peer's running containers.
	procs func() ([]ctrProcs, error)
	// removed, if set, checks what ps cannot show: that no container is
	// left in the store after rm.
	removed func() error
}

// ctrProcs is one running container's processes.
type ctrProcs struct {
	// supervisor is the process that watches over the container: nook's
	// monitor (which also serves the root filesystem over FUSE), podman's
	// conmon.
	supervisor int
	// fuse is the container's FUSE server when that is a process of its
	// own (podman's fuse-overlayfs); 0 for nook.
	fuse int
	// all is every process of the container: the supervisor and its
	// descendants (the workload), and fuse.
	all []procID
}

// The commands BenchmarkLifecycle times, on a container of the given
// name. rm without -f: a container that stop left running is an error,
// not something rm quietly kills.
func (p lifecyclePeer) startArgs(name string) []string {
	return []string{p.bin, "run", "-d", "--name", name, "--network", "none", runImage, "sleep", "3600"}
}

func (p lifecyclePeer) stopArgs(name string) []string {
	return []string{p.bin, "stop", "-t", "0", name}
}

func (p lifecyclePeer) rmArgs(name string) []string { return []string{p.bin, "rm", name} }

// warmArgs is the untimed run before the measurements: binaries and
// image into the page cache.
func (p lifecyclePeer) warmArgs() []string {
	return []string{p.bin, "run", "--rm", "--network", "none", runImage, "true"}
}

// ids lists the peer's containers, running ones only unless all.
func (p lifecyclePeer) ids(re *runEnv, all bool) ([]string, error) {
	args := []string{p.bin, "ps", "-q", "--no-trunc"}
	if all {
		args = append(args, "-a")
	}
	out, err := re.host.output(p.env, args...)
	if err != nil {
		return nil, fmt.Errorf("list %s's containers: %w", p.name, err)
	}
	return strings.Fields(out), nil
}

// lifecyclePeers prepares nook and podman, in the report's column order.
func lifecyclePeers(re *runEnv) []lifecyclePeer {
	return []lifecyclePeer{nookLifecyclePeer(re), podmanLifecyclePeer(re)}
}

// nookLifecyclePeer: this checkout's nook, whose detached containers each
// have a monitor, `nook __monitor ROOT ID`, a setsid'd nook process that
// serves the root filesystem, writes the logs and the state, and whose
// child is the workload.
func nookLifecyclePeer(re *runEnv) lifecyclePeer {
	base := nookPeer(re)
	p := lifecyclePeer{name: "nook", bin: re.nookBin, env: base.env, unavailable: base.unavailable, broken: base.broken}
	if p.unavailable != "" || p.broken != nil {
		return p
	}
	root := filepath.Join(envValue(p.env, "XDG_DATA_HOME"), "nook")
	p.procs = func() ([]ctrProcs, error) {
		tab, err := readProcTable()
		if err != nil {
			return nil, err
		}
		var ctrs []ctrProcs
		for pid, pi := range tab {
			if pi.live() && len(pi.args) >= 4 && pi.args[1] == "__monitor" && pi.args[2] == root {
				ctrs = append(ctrs, ctrProcs{supervisor: pid, all: tab.tree(pid)})
			}
		}
		slices.SortFunc(ctrs, func(a, b ctrProcs) int { return a.supervisor - b.supervisor })
		return ctrs, nil
	}
	p.removed = func() error { return nookStoreEmpty(root, envValue(p.env, "XDG_RUNTIME_DIR")) }
	return p
}

// containerDirName is a container's directory in nook's store and
// runtime directory: its 64-hex id.
var containerDirName = regexp.MustCompile(`^[0-9a-f]{64}$`)

// nookStoreEmpty checks that nook's store and runtime directory hold no
// container any more: no directory named by an id, no name taken.
func nookStoreEmpty(root, runtimeDir string) error {
	var left []string
	for _, dir := range []string{filepath.Join(root, "containers"), filepath.Join(runtimeDir, "nook")} {
		entries, err := os.ReadDir(dir)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("list %s: %w", dir, err)
		}
		for _, e := range entries {
			if containerDirName.MatchString(e.Name()) {
				left = append(left, filepath.Join(dir, e.Name()))
			}
		}
	}
	names := filepath.Join(root, "containers", "names")
	entries, err := os.ReadDir(names)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("list %s: %w", names, err)
	}
	for _, e := range entries {
		left = append(left, filepath.Join(names, e.Name()))
	}
	if len(left) > 0 {
		return fmt.Errorf("nook rm left %d entries: %s", len(left), clipText(strings.Join(left, " ")))
	}
	return nil
}

// podmanInspectFormat is what podmanLifecyclePeer asks of each
// container: conmon's pid and the mount point of its fuse-overlayfs.
const podmanInspectFormat = "{{.State.ConmonPid}} {{.GraphDriver.Data.MergedDir}}"

// podmanLifecyclePeer: Debian's podman, configured as for BenchmarkRun.
// Each detached container has a conmon (double-forked, the workload its
// child) and a fuse-overlayfs serving its root; podman's pause process
// holds the user namespace of all of them.
func podmanLifecyclePeer(re *runEnv) lifecyclePeer {
	base := podmanPeer(re)
	p := lifecyclePeer{name: "podman", bin: "podman", env: base.env, unavailable: base.unavailable, broken: base.broken}
	if p.unavailable != "" || p.broken != nil {
		return p
	}
	p.procs = func() ([]ctrProcs, error) {
		ids, err := p.ids(re, false)
		if err != nil || len(ids) == 0 {
			return nil, err
		}
		args := append([]string{"podman", "inspect", "--format", podmanInspectFormat}, ids...)
		out, err := re.host.output(p.env, args...)
		if err != nil {
			return nil, fmt.Errorf("find the containers' conmon and fuse-overlayfs: %w", err)
		}
		tab, err := readProcTable()
		if err != nil {
			return nil, err
		}
		var ctrs []ctrProcs
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			conmonField, merged, ok := strings.Cut(line, " ")
			conmon, err := strconv.Atoi(conmonField)
			if !ok || err != nil || conmon <= 0 || merged == "" {
				return nil, fmt.Errorf("podman inspect --format %q: unexpected line %q", podmanInspectFormat, line)
			}
			c := ctrProcs{supervisor: conmon, all: tab.tree(conmon)}
			if c.fuse = fuseOverlayfsOf(tab, merged); c.fuse == 0 {
				return nil, fmt.Errorf("no fuse-overlayfs process serves %s", merged)
			}
			c.all = append(c.all, tab[c.fuse].id)
			ctrs = append(ctrs, c)
		}
		return ctrs, nil
	}
	return p
}

// fuseOverlayfsOf finds the fuse-overlayfs process whose mount point
// (its last argument) is merged; 0 when there is none.
func fuseOverlayfsOf(tab procTable, merged string) int {
	for pid, pi := range tab {
		if pi.live() && pi.comm == "fuse-overlayfs" && len(pi.args) > 0 && pi.args[len(pi.args)-1] == merged {
			return pid
		}
	}
	return 0
}

// envValue is the value of key in env (KEY=VALUE entries); "" when it
// is not there.
func envValue(env []string, key string) string {
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, key+"="); ok {
			return v
		}
	}
	return ""
}

// podmanPause is podman's pause process, which holds podman's user
// namespace from podmanPeer's image load to the benchmark's cleanup,
// whichever peer is measured; 0 when there is none.
func podmanPause(re *runEnv) int {
	return readPausePID(filepath.Join(re.dir, "p", "tmp"))
}

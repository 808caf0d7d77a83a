package bench

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// A runPeer is one way of starting `true` in a fresh container.
type runPeer struct {
	name string
	args []string // the timed command
	env  []string // added to the user's environment
	rss  bool     // report the command's peak RSS
	// unavailable says why the peer cannot run here (a skip); broken, why
	// its setup failed (a failure). Both empty when it is ready.
	unavailable string
	broken      error
	// check, run untimed after the timed runs, confirms every run cleaned
	// up after itself, so a peer that leaks containers cannot look fast.
	check func() error
}

// runPeers prepares every peer, in the report's column order. Preparing
// (building nook, loading the image into each store) is untimed.
func runPeers(re *runEnv) []runPeer {
	return []runPeer{nookPeer(re), podmanPeer(re), bwrapPeer(re), unsharePeer()}
}

// nookPeer: nook from this checkout, its store in a private XDG_DATA_HOME
// with the image loaded once.
func nookPeer(re *runEnv) runPeer {
	p := runPeer{name: "nook", rss: true}
	if err := re.buildNook(); err != nil {
		p.unavailable = err.Error()
		return p
	}
	p.args = []string{re.nookBin, "run", "--rm", "--network", "none", runImage, "true"}
	data, err := re.privateDir("nook", "data")
	if err != nil {
		p.broken = err
		return p
	}
	runDir, err := re.privateDir("nook", "run")
	if err != nil {
		p.broken = err
		return p
	}
	p.env = []string{"XDG_DATA_HOME=" + data, "XDG_RUNTIME_DIR=" + runDir}
	if _, err := re.host.run(p.env, re.nookBin, "load", "-q", "-i", re.archive); err != nil {
		p.broken = fmt.Errorf("load the busybox image into nook's store: %w", err)
		return p
	}
	p.check = func() error {
		out, err := re.host.output(p.env, re.nookBin, "ps", "-a", "-q")
		if err != nil {
			return err
		}
		if ids := strings.Fields(out); len(ids) > 0 {
			return fmt.Errorf("nook run --rm left %d containers in the store: %s", len(ids), strings.Join(ids, " "))
		}
		return nil
	}
	return p
}

// podmanStorageConf keeps podman's store in the run directory. Rootless
// podman ignores graphroot and reads rootless_storage_path; runroot is
// under XDG_RUNTIME_DIR, which podmanPeer makes private too.
const podmanStorageConf = `[storage]
driver = "overlay"
rootless_storage_path = %q

[storage.options.overlay]
mount_program = %q
`

// podmanContainersConf: see BenchmarkRun's comment for why each line is
// there.
const podmanContainersConf = `[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
tmp_dir = %q
`

// podmanPeer: Debian's podman, rootless, on fuse-overlayfs, with runc, its
// store, runtime and configuration directories all private.
func podmanPeer(re *runEnv) runPeer {
	p := runPeer{name: "podman", rss: true}
	for _, tool := range []string{"podman", "runc", "conmon", "fuse-overlayfs"} {
		if _, err := exec.LookPath(tool); err != nil {
			p.unavailable = fmt.Sprintf("%s is not installed (apt-get install podman runc fuse-overlayfs): %v", tool, err)
			return p
		}
	}
	fuseOverlayfs, _ := exec.LookPath("fuse-overlayfs") // found just above
	p.args = []string{"podman", "run", "--rm", "--network", "none", runImage, "true"}
	// Under "p", not "podman": podman limits the length of the runroot.
	var dirs [5]string
	for i, name := range []string{"storage", "tmp", "run", "config", "data"} {
		d, err := re.privateDir("p", name)
		if err != nil {
			p.broken = err
			return p
		}
		dirs[i] = d
	}
	storage, tmp, runDir := dirs[0], dirs[1], dirs[2]
	// Podman's exit command (`podman container cleanup`, which records
	// the exit status) refuses a runroot longer than 50 characters, and
	// podman run then waits 20 s for a status that never comes.
	if runroot := filepath.Join(runDir, "containers"); len(runroot) > 50 {
		p.broken = fmt.Errorf("podman's runroot %s is longer than the 50 characters podman accepts: set TMPDIR to a shorter directory", runroot)
		return p
	}
	storageConf := filepath.Join(re.dir, "p", "storage.conf")
	containersConf := filepath.Join(re.dir, "p", "containers.conf")
	if err := os.WriteFile(storageConf, fmt.Appendf(nil, podmanStorageConf, storage, fuseOverlayfs), 0o644); err != nil {
		p.broken = fmt.Errorf("write podman's storage.conf: %w", err)
		return p
	}
	if err := os.WriteFile(containersConf, fmt.Appendf(nil, podmanContainersConf, tmp), 0o644); err != nil {
		p.broken = fmt.Errorf("write podman's containers.conf: %w", err)
		return p
	}
	// XDG_CONFIG_HOME and XDG_DATA_HOME keep podman out of the user's
	// ~/.config and ~/.local/share altogether.
	p.env = []string{
		"CONTAINERS_STORAGE_CONF=" + storageConf,
		"CONTAINERS_CONF=" + containersConf,
		"XDG_RUNTIME_DIR=" + runDir,
		"XDG_CONFIG_HOME=" + dirs[3],
		"XDG_DATA_HOME=" + dirs[4],
	}
	// Registered before the load, so a half-loaded store goes too. The
	// reset removes the store (whose files belong to subordinate ids:
	// only podman's namespace can remove them) and normally stops the
	// pause process podman started to hold its namespaces; stopPause
	// makes sure of the latter.
	re.cleanups = append(re.cleanups, func() error {
		pause := readPausePID(tmp)
		var errs []error
		if _, err := re.host.run(p.env, "podman", "system", "reset", "--force"); err != nil {
			errs = append(errs, fmt.Errorf("remove the benchmark's podman store: %w", err))
		}
		errs = append(errs, stopPause(pause))
		return errors.Join(errs...)
	})
	if _, err := re.host.run(p.env, "podman", "load", "-q", "-i", re.archive); err != nil {
		p.broken = fmt.Errorf("load the busybox image into podman's store: %w", err)
		return p
	}
	p.check = func() error {
		out, err := re.host.output(p.env, "podman", "ps", "-a", "-q")
		if err != nil {
			return err
		}
		if ids := strings.Fields(out); len(ids) > 0 {
			return fmt.Errorf("podman run --rm left %d containers: %s", len(ids), strings.Join(ids, " "))
		}
		return nil
	}
	return p
}

// bwrapPeer: bubblewrap on the same layer unpacked into a directory, in
// the namespaces nook makes (user, mount, PID, UTS, IPC, network; not
// cgroup, which --unshare-all would add), as root of a single-id map.
func bwrapPeer(re *runEnv) runPeer {
	p := runPeer{name: "bwrap", rss: true}
	if _, err := exec.LookPath("bwrap"); err != nil {
		p.unavailable = fmt.Sprintf("bwrap is not installed (apt-get install bubblewrap): %v", err)
		return p
	}
	p.args = []string{"bwrap", "--unshare-user", "--unshare-pid", "--unshare-uts", "--unshare-ipc", "--unshare-net",
		"--uid", "0", "--gid", "0", "--bind", re.rootfs, "/", "--proc", "/proc", "--dev", "/dev", "/bin/true"}
	return p
}

// unsharePeer is the floor: new user, mount and PID namespaces and a fresh
// /proc, no root filesystem at all.
func unsharePeer() runPeer {
	p := runPeer{name: "unshare"}
	if _, err := exec.LookPath("unshare"); err != nil {
		p.unavailable = fmt.Sprintf("unshare is not installed (apt-get install util-linux): %v", err)
		return p
	}
	p.args = []string{"unshare", "-Urmpf", "--mount-proc", "true"}
	return p
}

// readPausePID reads the pid of podman's pause process from its tmp_dir;
// 0 when there is none.
func readPausePID(tmpDir string) int {
	b, err := os.ReadFile(filepath.Join(tmpDir, "pause.pid"))
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0
	}
	return pid
}

// stopPause ends the pause process pid if it still runs (podman system
// reset may have ended it already) and is still catatonit, not a process
// that reused the pid.
func stopPause(pid int) error {
	if pid <= 0 {
		return nil
	}
	comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	if err != nil || strings.TrimSpace(string(comm)) != "catatonit" {
		return nil
	}
	if err := unix.Kill(pid, unix.SIGTERM); err != nil && !errors.Is(err, unix.ESRCH) {
		return fmt.Errorf("stop podman's pause process %d: %w", pid, err)
	}
	return nil
}

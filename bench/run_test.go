package bench

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// runsPerOp is how many complete runs one benchmark op is; make bench runs
// each benchmark once (-benchtime 1x), so the op must hold the many runs a
// median needs. Odd, so the median is one run's time.
const runsPerOp = 21

// rssRuns is how many extra, untimed runs measure the peak RSS.
const rssRuns = 5

// BenchmarkRun times starting `true` in a fresh container until it has
// exited, side by side: BenchmarkRun/<peer>, with peers nook (`nook run
// --rm --network none`), podman (`podman run --rm --network none`), bwrap
// (bubblewrap on the same layer unpacked) and unshare (`unshare -Urmpf
// --mount-proc true`, the floor: namespaces and no root filesystem). All
// start the same image (imagetest's busybox): nook and podman load one
// docker-archive, bwrap gets its layer unpacked.
//
// The commands run from the host's namespaces, as the user (through the
// host runner, see hostrun_test.go), each timed from fork to reaped. Each
// peer runs once untimed first (binaries and the image into the page
// cache; podman starts its pause process, which holds its user namespace
// for every later run, as in everyday use), then runsPerOp times; the
// result is the median run, as the ms/run metric (ns/op is the whole op).
// The dirty pages of the run directory's filesystem are written back
// before each run, outside the timer.
//
// MiB-peak-RSS is wait4's ru_maxrss of the command: the larger of its own
// peak resident set (VmHWM) and that of any descendant it reaped. For nook
// that is the monitor (the nook process, which serves the FUSE root) or
// the container's child before it execs, whichever is larger; for podman,
// podman itself (conmon is not its child: it double-forks); for bwrap,
// bwrap and the workload. Median of rssRuns more runs, untimed, each under
// GNU time (/usr/bin/time -f %M), not from the host runner's own wait4:
// the runner is a Go process, which starts commands with vfork, and exec
// folds the peak RSS of the memory it leaves (the runner's, some 8 MiB)
// into the process's ru_maxrss. GNU time forks from its own small memory.
//
// Podman on this machine (Debian 12's podman 4.3.1, hybrid cgroups: v1
// controllers, and a v2 hierarchy holding only hugetlb), rootless:
//   - runtime = "runc": Debian's default runtime crun 1.8.1 refuses the
//     hybrid hierarchy outright ("crun: cgroups in hybrid mode not
//     supported, drop all controllers from cgroupv2"), even with
//     --cgroups=disabled, and only root can move hugetlb off the v2
//     hierarchy. runc (apt-get install runc) runs.
//   - cgroups stay enabled: podman refuses --cgroups=disabled with runc
//     ("requested OCI runtime runc is not compatible with NoCgroups").
//     Rootless on cgroup v1, podman cannot create cgroups anyway: it logs
//     that conmon could not join one and runs the container without.
//   - cgroup_manager = "cgroupfs", events_logger = "file": what podman
//     falls back to without a systemd user session and journal (as here);
//     set explicitly so the figure does not depend on that detection.
//   - storage: overlay with mount_program fuse-overlayfs (the rootless
//     setup that works on any kernel), rootless_storage_path in a private
//     storage.conf (rootless podman ignores graphroot), and private
//     XDG_RUNTIME_DIR, XDG_CONFIG_HOME, XDG_DATA_HOME and tmp_dir, so the
//     user's own store and configuration are untouched. `podman system
//     reset` removes it all at the end and stops the pause process.
//   - a short runroot ($TMPDIR/nook-run-N/p/run/containers): podman's
//     exit command (`podman container cleanup`, which records the exit
//     status) fails with "the specified runroot is longer than 50
//     characters", and podman run then waits 20 s for every container.
//
// Podman prints `"/" is not a shared mount` on every command here; it is
// a warning, harmless for these containers.
func BenchmarkRun(b *testing.B) {
	re, err := newRunEnv()
	if re != nil {
		b.Cleanup(func() {
			if err := re.close(); err != nil {
				b.Errorf("clean up the run benchmark: %v", err)
			}
		})
	}
	if err != nil {
		b.Fatalf("set up the run benchmark: %v", err)
	}
	peers := runPeers(re)
	printRunConfig(peers, re.rssHow)
	for _, p := range peers {
		b.Run(p.name, func(b *testing.B) { measureRun(b, re, p) })
	}
}

func measureRun(b *testing.B, re *runEnv, p runPeer) {
	if p.unavailable != "" {
		skip(b, p.unavailable)
	}
	if p.broken != nil {
		b.Fatal(p.broken)
	}
	b.StopTimer()
	if _, err := re.host.run(p.env, p.args...); err != nil {
		b.Fatalf("%s, untimed first run: %v", p.name, err)
	}
	var ms []float64
	b.ResetTimer()
	for range b.N {
		for range runsPerOp {
			if err := syncfs(re.dir); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			res, err := re.host.run(p.env, p.args...)
			b.StopTimer()
			if err != nil {
				b.Fatalf("%s: %v", p.name, err)
			}
			ms = append(ms, float64(res.Wall.Nanoseconds())/1e6)
		}
	}
	if p.check != nil {
		if err := p.check(); err != nil {
			b.Fatalf("%s: %v", p.name, err)
		}
	}
	b.ReportMetric(middle(ms), "ms/run")
	if p.rss {
		mib, err := re.peakRSS(p)
		if err != nil {
			b.Fatalf("%s: %v", p.name, err)
		}
		if mib > 0 {
			b.ReportMetric(mib, "MiB-peak-RSS")
		}
	}
	reportLoad(b)
}

// middle is the median of vs (not empty).
func middle(vs []float64) float64 {
	s := slices.Clone(vs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// syncfs writes back the dirty pages of dir's filesystem, so a run does
// not pay for the previous one's.
func syncfs(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := unix.Syncfs(int(f.Fd())); err != nil {
		return fmt.Errorf("syncfs %s: %w", dir, err)
	}
	return nil
}

// printRunConfig prints the peers' commands and versions as configuration
// lines, for benchtable's report. run-peer-* lines describe the Run table's
// columns.
func printRunConfig(peers []runPeer, rssHow string) {
	busybox := strings.TrimSuffix(version("busybox"), " multi-call binary.")
	fmt.Printf("run-image: imagetest busybox (%s, one layer), %s\n", busybox, runImage)
	fmt.Printf("run-runs-per-round: %d, after one untimed run\n", runsPerOp)
	fmt.Printf("run-peak-rss: %s\n", rssHow)
	for _, p := range peers {
		if len(p.args) == 0 {
			continue
		}
		args := slices.Clone(p.args)
		for i, a := range args {
			if strings.HasPrefix(a, "/") && i > 0 && args[i-1] == "--bind" {
				args[i] = "ROOTFS"
			}
		}
		if p.name == "nook" {
			args[0] = "nook"
		}
		fmt.Printf("run-peer-%s: `%s`\n", p.name, strings.Join(args, " "))
	}
	fmt.Printf("podman: %s; %s; %s\n", version("podman", "--version"), version("runc", "--version"), version("conmon", "--version"))
	fmt.Printf("bubblewrap: %s\n", version("bwrap", "--version"))
	fmt.Printf("util-linux: %s\n", version("unshare", "--version"))
}

package bench

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// lifecycleCount is how many detached containers BenchmarkLifecycle runs
// at once: issue 7 asks that 100 idle detached busybox containers run at
// once on this machine (2 cores, 24 GiB).
const lifecycleCount = 100

// lifecycleRow is the benchmark's one row: BenchmarkLifecycle/<row>/<peer>.
var lifecycleRow = fmt.Sprintf("%d-idle", lifecycleCount)

// BenchmarkLifecycle measures detached containers side by side:
// BenchmarkLifecycle/100-idle/<peer>, with peers nook (this checkout's
// `nook run -d`) and podman (`podman run -d`, rootless, configured as for
// BenchmarkRun: runc, fuse-overlayfs, private store). One op is, for
// each peer in turn:
//
//  1. start lifecycleCount containers one after another, each
//     `run -d --name lc-NNN --network none IMAGE sleep 3600`, each command
//     timed from fork to reaped (both return once the workload runs);
//  2. with all of them running, idle, read the memory of every process
//     that belongs to them (see below);
//  3. stop them one after another, `stop -t 0 NAME` (SIGKILL at once);
//  4. remove them one after another, `rm NAME`.
//
// Metrics (in milliseconds unless MiB): ms-start-total, ms-stop-total and
// ms-rm-total are the wall time of each phase's whole loop; ms/start,
// ms/stop and ms/rm the median command. A container that does not start
// fails the benchmark, naming its number and the runtime's error: the
// number of containers is never lowered.
//
// Memory, read on the host (see readMemory): VmRSS from /proc/PID/status
// and Pss from /proc/PID/smaps_rollup. MiB-supervisor-RSS and -PSS are
// the median over the containers of the process that watches over one:
// nook's monitor (which also serves the container's root over FUSE and
// writes its log), podman's conmon. MiB-fuse-RSS and -PSS, podman's only,
// are the median fuse-overlayfs serving one container's root (nook's
// monitor does that itself). MiB-RSS/ctr and MiB-PSS/ctr add up every
// process of every container, divided by lifecycleCount: nook's monitors
// and their descendants (the workloads; --network none, so no
// slirp4netns or pasta), podman's conmons and their descendants (the
// workloads) and fuse-overlayfs processes. Podman's pause process, one
// for all its containers, is not counted. RSS counts a page shared by
// many processes (the nook binary's text, in every monitor) in each of
// them; PSS divides it among them, so PSS/ctr is what one more container
// costs.
//
// Nothing may be left behind, or a runtime could look fast by leaking:
// before the op no container exists; after the starts exactly
// lifecycleCount run, each with its supervisor and workload; after the
// stops none runs, all are listed by `ps -a`, and every process recorded
// while they ran has ended, as has every process naming the benchmark's
// directory (noLeftovers; podman's pause process, which runs from the
// setup on, apart); after the rms `ps -a` is empty and, for nook, no
// container directory or name is left in the store or the runtime
// directory. Every run, stop and rm is bounded by lifecycleCmdTimeout.
// Whatever fails, the peer's containers are removed with `rm -f` before
// the benchmark fails.
func BenchmarkLifecycle(b *testing.B) {
	re, err := newRunEnv()
	if re != nil {
		b.Cleanup(func() {
			if err := re.close(); err != nil {
				b.Errorf("clean up the lifecycle benchmark: %v", err)
			}
		})
	}
	if err != nil {
		b.Fatalf("set up the lifecycle benchmark: %v", err)
	}
	peers := lifecyclePeers(re)
	printLifecycleConfig(peers)
	b.Run(lifecycleRow, func(b *testing.B) {
		for _, p := range peers {
			b.Run(p.name, func(b *testing.B) { measureLifecycle(b, re, p) })
		}
	})
}

func measureLifecycle(b *testing.B, re *runEnv, p lifecyclePeer) {
	if p.unavailable != "" {
		skip(b, p.unavailable)
	}
	if p.broken != nil {
		b.Fatal(p.broken)
	}
	b.StopTimer()
	if _, err := runBounded(re.host, hostRequest{Args: p.warmArgs(), Env: p.env}); err != nil {
		b.Fatalf("%s, untimed first run: %v", p.name, err)
	}
	if ids, err := p.ids(re, true); err != nil || len(ids) > 0 {
		b.Fatalf("%s: before the first start: %d containers exist (%v)", p.name, len(ids), err)
	}
	var r lifecycleResult
	b.ResetTimer()
	for range b.N {
		b.StartTimer()
		res, err := lifecycleRound(re, p)
		b.StopTimer()
		if err != nil {
			b.Fatalf("%s: %v", p.name, err)
		}
		r = res
	}
	b.ReportMetric(r.startTotal, "ms-start-total")
	b.ReportMetric(middle(r.start), "ms/start")
	b.ReportMetric(r.stopTotal, "ms-stop-total")
	b.ReportMetric(middle(r.stop), "ms/stop")
	b.ReportMetric(r.rmTotal, "ms-rm-total")
	b.ReportMetric(middle(r.rm), "ms/rm")
	m := r.mem
	b.ReportMetric(middle(m.supRSS), "MiB-supervisor-RSS")
	b.ReportMetric(middle(m.supPSS), "MiB-supervisor-PSS")
	if len(m.fuseRSS) > 0 {
		b.ReportMetric(middle(m.fuseRSS), "MiB-fuse-RSS")
		b.ReportMetric(middle(m.fusePSS), "MiB-fuse-PSS")
	}
	b.ReportMetric(m.totalRSS/lifecycleCount, "MiB-RSS/ctr")
	b.ReportMetric(m.totalPSS/lifecycleCount, "MiB-PSS/ctr")
	b.Logf("%s: %d processes for %d containers; supervisors' RSS min %.1f median %.1f max %.1f MiB "+
		"(RssAnon median %.1f, RssFile median %.1f), PSS median %.1f MiB; "+
		"the other processes (workloads) RSS %.2f PSS %.2f MiB per container",
		p.name, m.procs, lifecycleCount, slices.Min(m.supRSS), middle(m.supRSS), slices.Max(m.supRSS),
		middle(m.supAnon), middle(m.supFile), middle(m.supPSS), m.restRSS/lifecycleCount, m.restPSS/lifecycleCount)
	reportLoad(b)
}

// lifecycleResult is one op's figures: the per-command times in ms, each
// phase's wall time in ms, the memory.
type lifecycleResult struct {
	start, stop, rm                []float64
	startTotal, stopTotal, rmTotal float64
	mem                            lifecycleMem
}

// lifecycleRound runs one op (see BenchmarkLifecycle). Whatever fails,
// the peer's containers are removed before it returns.
func lifecycleRound(re *runEnv, p lifecyclePeer) (r lifecycleResult, err error) {
	defer func() {
		if err != nil {
			err = errors.Join(err, forceRemove(re, p))
		}
	}()
	names := make([]string, lifecycleCount)
	for i := range names {
		names[i] = fmt.Sprintf("lc-%03d", i+1)
	}
	phase := func(what string, cmd func(string) []string, times *[]float64, total *float64) error {
		begin := time.Now()
		for i, name := range names {
			res, err := runBounded(re.host, hostRequest{Args: cmd(name), Env: p.env})
			if err != nil {
				return fmt.Errorf("%s container %d of %d (%s), after %d succeeded: %w", what, i+1, len(names), name, i, err)
			}
			*times = append(*times, millis(res.Wall))
		}
		*total = millis(time.Since(begin))
		return nil
	}

	if err := phase("start", p.startArgs, &r.start, &r.startTotal); err != nil {
		return r, err
	}
	ctrs, err := runningContainers(re, p)
	if err != nil {
		return r, fmt.Errorf("after starting %d containers: %w", lifecycleCount, err)
	}
	if r.mem, err = measureMemory(re.host, ctrs); err != nil {
		return r, err
	}
	var recorded []procID
	for _, c := range ctrs {
		recorded = append(recorded, c.all...)
	}

	if err := phase("stop", p.stopArgs, &r.stop, &r.stopTotal); err != nil {
		return r, err
	}
	if err := stoppedContainers(re, p, recorded); err != nil {
		return r, fmt.Errorf("after stopping %d containers: %w", lifecycleCount, err)
	}

	if err := phase("remove", p.rmArgs, &r.rm, &r.rmTotal); err != nil {
		return r, err
	}
	if err := removedContainers(re, p); err != nil {
		return r, fmt.Errorf("after removing %d containers: %w", lifecycleCount, err)
	}
	return r, nil
}

// runningContainers checks that exactly lifecycleCount containers run,
// each with its supervisor and a workload below it, and returns their
// processes.
func runningContainers(re *runEnv, p lifecyclePeer) ([]ctrProcs, error) {
	ids, err := p.ids(re, false)
	if err != nil {
		return nil, err
	}
	if len(ids) != lifecycleCount {
		return nil, fmt.Errorf("%s ps lists %d running containers, want %d", p.name, len(ids), lifecycleCount)
	}
	ctrs, err := p.procs()
	if err != nil {
		return nil, err
	}
	if len(ctrs) != lifecycleCount {
		return nil, fmt.Errorf("found %d supervising processes for %d running containers", len(ctrs), lifecycleCount)
	}
	for _, c := range ctrs {
		// The supervisor, the workload, and podman's fuse-overlayfs.
		want := 2
		if c.fuse != 0 {
			want = 3
		}
		if len(c.all) < want {
			return nil, fmt.Errorf("supervising process %d has no workload below it", c.supervisor)
		}
	}
	return ctrs, nil
}

// stoppedContainers checks that no container runs and all are still
// listed, and that every process recorded while they ran, and every
// other process of the peer's, has ended.
func stoppedContainers(re *runEnv, p lifecyclePeer, recorded []procID) error {
	running, err := p.ids(re, false)
	if err != nil {
		return err
	}
	if len(running) > 0 {
		return fmt.Errorf("%s ps lists %d containers still running: %s", p.name, len(running), clipText(strings.Join(running, " ")))
	}
	all, err := p.ids(re, true)
	if err != nil {
		return err
	}
	if len(all) != lifecycleCount {
		return fmt.Errorf("%s ps -a lists %d containers, want the %d stopped ones", p.name, len(all), lifecycleCount)
	}
	if err := allEnded(recorded); err != nil {
		return err
	}
	return noLeftovers(re.host, re.dir, podmanPause(re))
}

// removedContainers checks that no container is left, in ps or (nook)
// in the store, and no process.
func removedContainers(re *runEnv, p lifecyclePeer) error {
	all, err := p.ids(re, true)
	if err != nil {
		return err
	}
	if len(all) > 0 {
		return fmt.Errorf("%s ps -a lists %d containers after rm: %s", p.name, len(all), clipText(strings.Join(all, " ")))
	}
	if p.removed != nil {
		if err := p.removed(); err != nil {
			return err
		}
	}
	return noLeftovers(re.host, re.dir, podmanPause(re))
}

// forceRemove removes every container of the peer's with rm -f, after a
// failure.
func forceRemove(re *runEnv, p lifecyclePeer) error {
	ids, err := p.ids(re, true)
	if err != nil || len(ids) == 0 {
		return err
	}
	args := append([]string{p.bin, "rm", "-f"}, ids...)
	if _, err := runBounded(re.host, hostRequest{Args: args, Env: p.env}); err != nil {
		return fmt.Errorf("remove the %d containers left after the failure: %w", len(ids), err)
	}
	return nil
}

func millis(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e6 }

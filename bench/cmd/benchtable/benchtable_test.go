package main

import (
	"os"
	"strings"
	"testing"
)

func TestReport(t *testing.T) {
	got := report(t, "testdata/two-runs.out")
	for _, want := range []string{
		"- kernel: 6.18.44\n",
		"- nook-commit: 0123abc; abc1234\n",
		"- debian-rootfs: a; b\n",
		"- GOMAXPROCS (cores): 2\n",
		// Medians: of 100, 300, 200 ms; of 400, 400 ms; of 700, 800 ms.
		"| find-stat-warm | 200 ms | 400 ms | skipped | 250 ms | 0.62 ✓ | 1.25 ✓ | — | — |",
		"| write-1GiB | 1.00 s | 2.00 s | skipped | failed | — | — | — | — |",
		"| debian-rootfs | 750 ms | 500 ms | 1.50 |",
		"| find-stat-warm | 8.0 | 30.0 |",
		"- `Union/*/nook-dir`: skipped: nook-overlayfs does not build: undefined: fuseunion.OpenTarLower",
		"- `Union/write-1GiB/nook-tar`: failed: write-1GiB on nook-tar: dd: error writing No space left on device",
		"Targets met: 2 of 6",
		"load average median 2.5, max 4.5; share of the last 10 s in which a runnable task waited for a CPU (/proc/pressure/cpu) median 35%, max 40%.",
		"Other work competed for the 2 cores",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("report lacks %q\n%s", want, got)
		}
	}
	if strings.Contains(got, "nook-bench setup") {
		t.Errorf("a progress line became configuration:\n%s", got)
	}
}

// report renders the benchmark output in the file at path.
func report(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, err := parse(f)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	render(&out, res, "make bench")
	return out.String()
}

func TestMedian(t *testing.T) {
	for _, c := range []struct {
		in   []float64
		want float64
	}{
		{[]float64{5}, 5},
		{[]float64{3, 1, 2}, 2},
		{[]float64{4, 1, 3, 2}, 2.5},
	} {
		var ss []sample
		for _, v := range c.in {
			ss = append(ss, sample{nsPerOp: v})
		}
		if got, ok := median(ss, nsOf); !ok || got != c.want {
			t.Errorf("median(%v) = %v, %v; want %v", c.in, got, ok, c.want)
		}
	}
	if _, ok := median(nil, nsOf); ok {
		t.Error("median of nothing reported a value")
	}
}

// TestRunTable: BenchmarkRun/<peer> has no row level; its time is the
// ms/run metric, and podman / nook is a target to reach, not to stay under.
func TestRunTable(t *testing.T) {
	got := report(t, "testdata/run.out")
	for _, want := range []string{
		"## Container start-up: `true` in a fresh container, start to exit (median)",
		"| workload | nook | podman | bwrap | unshare | nook / unshare | podman / nook | bwrap / unshare |",
		// Medians: nook of 40 and 50 ms; podman, bwrap and unshare of one
		// round each, but bwrap of 7 and 5 ms.
		"| true | 45.0 ms | 240 ms | 6.00 ms | 2.00 ms | 22.50 ✗ (≤ 3.0) | 5.33 ✗ (≥ 20.0) | 3.00 |",
		"Targets met: 0 of 2",
		"podman / nook must be ≥ 20",
		"### Start-up memory",
		"| true | 11.5 | 35.0 | 8.0 |",
		"- nook: `nook run --rm --network none localhost/busybox:latest true`\n",
		"- runs-per-round: 21, after one untimed run\n",
		"- podman: podman version 4.3.1; runc version 1.1.5+ds1; conmon version 2.1.6\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("report lacks %q\n%s", want, got)
		}
	}
	// The run-* lines describe the Run section, not the setup.
	if strings.Contains(got, "- run-peer-nook:") || strings.Contains(got, "- run-image:") {
		t.Errorf("run-* configuration listed under Setup:\n%s", got)
	}
}

func TestHandNotes(t *testing.T) {
	dir := t.TempDir()
	report := dir + "/BENCHMARKS.md"
	notes := "## Notes (by hand, not generated)\n\n- **A finding.** Measured by hand.\n"
	if err := os.WriteFile(report, []byte("# Benchmarks\n\n| a | b |\n\n\n"+notes+"\n\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := handNotes(report)
	if err != nil {
		t.Fatal(err)
	}
	if got != notes {
		t.Errorf("handNotes = %q, want %q", got, notes)
	}
	if got, err := handNotes(dir + "/missing.md"); err != nil || got != "" {
		t.Errorf("handNotes of a missing report = %q, %v; want nothing", got, err)
	}
	if err := os.WriteFile(report, []byte("# Benchmarks\n\nno notes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := handNotes(report); err != nil || got != "" {
		t.Errorf("handNotes of a report without notes = %q, %v; want nothing", got, err)
	}
}

// TestPullTable: BenchmarkPull/<peer> has one row; its time is ms/pull,
// podman / nook is a target to reach, and its memory table is its own,
// not the start-up one.
func TestPullTable(t *testing.T) {
	got := report(t, "testdata/pull.out")
	for _, want := range []string{
		"## Image pull: a 6-layer, ~200 MB image from a loopback registry into an empty store (median)",
		"| workload | nook | podman | podman / nook |",
		// Medians: nook of 1.8 and 2.0 s, podman of 6.812 and 7.0 s.
		"| 6-layers-200MB | 1.90 s | 6.91 s | 3.63 ✓ |",
		"Targets met: 1 of 1",
		"podman / nook must be ≥ 2",
		"### Pull memory",
		"| 6-layers-200MB | 32.0 | 68.3 |",
		"- registry: docker-registry github.com/docker/distribution 2.8.2+ds1 on 127.0.0.1, plain HTTP, storage on ext4\n",
		"- nook: `nook pull -q 127.0.0.1:PORT/bench/pull:v1`\n",
		"- pulls-per-round: 5, each into an empty store, after one untimed pull\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("report lacks %q\n%s", want, got)
		}
	}
	pullAt := strings.Index(got, "## Image pull")
	runAt := strings.Index(got, "## Container start-up")
	if pullAt < 0 || runAt < 0 || runAt > pullAt {
		t.Fatalf("want the start-up section, then the pull section:\n%s", got)
	}
	if pull := got[pullAt:]; strings.Contains(pull, "### Start-up memory") {
		t.Errorf("the start-up memory table is under the pull section:\n%s", pull)
	}
	if run := got[runAt:pullAt]; !strings.Contains(run, "### Start-up memory") || strings.Contains(run, "### Pull memory") {
		t.Errorf("the start-up section's memory tables:\n%s", run)
	}
	if strings.Contains(got, "- pull-image:") {
		t.Errorf("pull-* configuration listed under Setup:\n%s", got)
	}
}

// TestNetworkTable: BenchmarkNetwork/<driver>/<peer> reports metrics, not
// a time; its table has a row per driver and metric, and nook / podman is
// marked against issue 6's targets, the direction depending on the metric.
func TestNetworkTable(t *testing.T) {
	got := report(t, "testdata/network.out")
	for _, want := range []string{
		"## Container network: TCP throughput and published-port latency, per driver (median)",
		"| workload | nook | podman | nook / podman |",
		// Medians of two runs each: pasta's nook of 11.45 and 11.55,
		// 0.391 and 0.609, 0.7672 and 0.7328 ms; podman skipped.
		"| pasta: host → container, Gbit/s | 11.5 | skipped | — |",
		"| pasta: container → host, Gbit/s | 0.50 | skipped | — |",
		"| pasta: connect + request via published port | 750 µs | skipped | — |",
		// slirp4netns: 11.5 / 9.5, 2.2 / 2.5 (missed), 1.2 ms / 1.2 ms.
		"| slirp4netns: host → container, Gbit/s | 11.5 | 9.50 | 1.21 ✓ |",
		"| slirp4netns: container → host, Gbit/s | 2.20 | 2.50 | 0.88 ✗ (≥ 0.9) |",
		"| slirp4netns: connect + request via published port | 1.20 ms | 1.20 ms | 1.00 ✓ |",
		"Targets met: 2 of 6",
		"nook / podman must be ≥ 0.9 for a throughput and ≤ 1.1 for the latency",
		"- pasta-nook: `nook run --rm --init --network pasta",
		"- rounds-per-run: 3 per peer",
		"- passt: 0.0~git20230309.7c7625d-1\n",
		"- `Network/pasta/podman`: skipped: podman version 4.3.1 cannot run --network pasta",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("report lacks %q\n%s", want, got)
		}
	}
	if strings.Contains(got, "- net-image:") {
		t.Errorf("net-* configuration listed under Setup:\n%s", got)
	}
	if strings.Contains(got, "| pasta | ") || strings.Contains(got, "### ") {
		t.Errorf("the network group got the time or metric tables of the other groups:\n%s", got)
	}
}

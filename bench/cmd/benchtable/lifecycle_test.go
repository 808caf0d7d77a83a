package main

import (
	"strings"
	"testing"
)

// TestLifecycleTable: BenchmarkLifecycle/<row>/<peer> reports metrics, not
// a time; its table has a row per metric, nook / podman beside, and issue
// 7's targets for nook below.
func TestLifecycleTable(t *testing.T) {
	got := report(t, "testdata/lifecycle.out")
	for _, want := range []string{
		"## Detached containers: start, stop and remove many, and what an idle one costs (median)",
		"| workload | nook | podman | nook / podman |",
		// nook: medians of two runs (7000 and 7200 ms, 61.68 and 62 ms,
		// ...); podman: one run.
		"| start (`run -d`), all containers one after another | 7.10 s | 20.3 s | 0.35 |",
		"| start, median per container | 61.8 ms | 198 ms | 0.31 |",
		"| stop (`stop -t 0`), all containers one after another | 2.65 s | 14.7 s | 0.18 |",
		"| remove, median per container | 13.3 ms | 103 ms | 0.13 |",
		"| supervising process (nook: monitor; podman: conmon), RSS MiB | 9.40 | 2.45 | 3.84 |",
		// nook's monitor serves FUSE itself: no such process, no ratio.
		"| FUSE server of its own, PSS MiB | — | 0.37 | — |",
		"| all the containers' processes, PSS MiB per container | 4.77 | 1.79 | 2.66 |",
		"Targets (100-idle): all the containers idle at once: ✓; a monitor's RSS ≤ 15 MB (14.3 MiB): 9.4 MiB ✓.",
		"- containers: 100 at once",
		"- nook: `nook run -d --name NAME --network none localhost/busybox:latest sleep 3600`, `nook stop -t 0 NAME`, `nook rm NAME`",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("report lacks %q\n%s", want, got)
		}
	}
	if strings.Contains(got, "- life-image:") {
		t.Errorf("life-* configuration listed under Setup:\n%s", got)
	}
	if strings.Contains(got, "| 100-idle") || strings.Contains(got, "### ") {
		t.Errorf("the lifecycle group got the time or metric tables of the other groups:\n%s", got)
	}
}

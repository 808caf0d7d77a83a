package main

import (
	"fmt"
	"io"
)

// lifecycleGroup is BenchmarkLifecycle's group:
// BenchmarkLifecycle/<row>/<peer>, each result carrying the metrics of
// lifeMetrics rather than a time. Its table has a row per metric.
const lifecycleGroup = "Lifecycle"

// monitorRSSTarget is issue 7's bound on an idle detached container's
// monitor: 15 MB RSS, in MiB.
const monitorRSSTarget = 15e6 / (1 << 20)

// A lifeMetric is one of BenchmarkLifecycle's metrics; all are lower is
// better, times in ms or memory in MiB.
type lifeMetric struct {
	unit, name string
	mib        bool
}

func lifeMetrics() []lifeMetric {
	return []lifeMetric{
		{unit: "ms-start-total", name: "start (`run -d`), all containers one after another"},
		{unit: "ms/start", name: "start, median per container"},
		{unit: "ms-stop-total", name: "stop (`stop -t 0`), all containers one after another"},
		{unit: "ms/stop", name: "stop, median per container"},
		{unit: "ms-rm-total", name: "remove (`rm`), all containers one after another"},
		{unit: "ms/rm", name: "remove, median per container"},
		{unit: "MiB-supervisor-RSS", name: "supervising process (nook: monitor; podman: conmon), RSS MiB", mib: true},
		{unit: "MiB-supervisor-PSS", name: "supervising process, PSS MiB", mib: true},
		{unit: "MiB-fuse-RSS", name: "FUSE server of its own (podman: fuse-overlayfs), RSS MiB", mib: true},
		{unit: "MiB-fuse-PSS", name: "FUSE server of its own, PSS MiB", mib: true},
		{unit: "MiB-RSS/ctr", name: "all the containers' processes, RSS MiB per container", mib: true},
		{unit: "MiB-PSS/ctr", name: "all the containers' processes, PSS MiB per container", mib: true},
	}
}

// renderLifecycle writes the lifecycle table: a row per metric, a column
// per peer and nook / podman, then issue 7's targets for nook. The rows
// are named by their metric alone while the benchmark has one row (the
// number of containers, in its configuration lines).
func renderLifecycle(w io.Writer, res *results, g string) {
	cols, withRatio := nookPodmanTable(w, res, g)
	for _, row := range res.rows[g] {
		for _, m := range lifeMetrics() {
			label := m.name
			if len(res.rows[g]) > 1 {
				label = row + ": " + label
			}
			line := []string{label}
			for _, col := range cols {
				c := cell{g, row, col}
				if v, ok := median(res.samples[c], metricOf(m.unit)); ok {
					line = append(line, m.format(v))
				} else if len(res.samples[c]) > 0 {
					line = append(line, "—")
				} else {
					line = append(line, missing(res, c))
				}
			}
			if withRatio {
				line = append(line, ratioText(res, cell{g, row, "nook"}, cell{g, row, "podman"}, m.unit))
			}
			table(w, line)
		}
	}
	fmt.Fprintln(w)
	renderLifecycleTargets(w, res, g)
}

// renderLifecycleTargets marks issue 7's targets: the monitor's RSS, and
// every container of a row running at once (the benchmark fails when
// one does not start, so a result means they all did).
func renderLifecycleTargets(w io.Writer, res *results, g string) {
	for _, row := range res.rows[g] {
		c := cell{g, row, "nook"}
		ran, rss := "— not measured", "— not measured"
		if len(res.samples[c]) > 0 {
			ran = "✓"
		}
		if v, ok := median(res.samples[c], metricOf("MiB-supervisor-RSS")); ok {
			rss = fmt.Sprintf("%.1f MiB ✓", v)
			if v > monitorRSSTarget {
				rss = fmt.Sprintf("%.1f MiB ✗", v)
			}
		}
		fmt.Fprintf(w, "Targets (%s): all the containers idle at once: %s; a monitor's RSS ≤ 15 MB (%.1f MiB): %s.\n\n",
			row, ran, monitorRSSTarget, rss)
	}
}

// format prints a median: a time as a duration, memory in MiB.
func (m lifeMetric) format(v float64) string {
	if m.mib {
		return sig3(v)
	}
	return duration(v * 1e6)
}

// ratioText is a / b of unit's medians, "—" when either is missing.
func ratioText(res *results, a, b cell, unit string) string {
	va, okA := median(res.samples[a], metricOf(unit))
	vb, okB := median(res.samples[b], metricOf(unit))
	if !okA || !okB || vb == 0 {
		return "—"
	}
	return fmt.Sprintf("%.2f", va/vb)
}

package main

import (
	"fmt"
	"io"
	"slices"
)

// networkGroup is BenchmarkNetwork's group: BenchmarkNetwork/<driver>/<peer>,
// each result carrying the metrics of netMetrics rather than a time. Its
// table has a row per driver and metric instead of one per benchmark row.
const networkGroup = "Network"

// A netMetric is one of BenchmarkNetwork's metrics, with issue 6's target
// for nook against podman on the same driver: within 10%, so nook / podman
// at least 0.9 for a throughput and at most 1.1 for a latency.
type netMetric struct {
	unit, name string
	// higherIsBetter: a throughput (else a latency, in milliseconds).
	higherIsBetter bool
	target         float64
}

func netMetrics() []netMetric {
	return []netMetric{
		{unit: "Gbit/s-host-to-ctr", name: "host → container, Gbit/s", higherIsBetter: true, target: 0.9},
		{unit: "Gbit/s-ctr-to-host", name: "container → host, Gbit/s", higherIsBetter: true, target: 0.9},
		{unit: "ms/conn", name: "connect + request via published port", target: 1.1},
	}
}

// renderNetwork writes the network table: a row per driver and metric, a
// column per peer, and nook / podman marked against the target.
func renderNetwork(w io.Writer, res *results, g string) {
	cols, withRatio := nookPodmanTable(w, res, g)
	met, total := 0, 0
	for _, driver := range res.rows[g] {
		for _, m := range netMetrics() {
			line := []string{driver + ": " + m.name}
			for _, col := range cols {
				c := cell{g, driver, col}
				if v, ok := median(res.samples[c], metricOf(m.unit)); ok {
					line = append(line, m.format(v))
				} else {
					line = append(line, missing(res, c))
				}
			}
			if withRatio {
				total++
				text, ok := m.ratio(res, g, driver)
				if ok {
					met++
				}
				line = append(line, text)
			}
			table(w, line)
		}
	}
	fmt.Fprintln(w)
	if total > 0 {
		fmt.Fprintf(w, "Targets met: %d of %d (✓ met, ✗ missed, — not measured). %s\n\n", met, total, targetRules[g])
	}
}

// format prints a median: Gbit/s with three significant digits, a latency
// as a duration.
func (m netMetric) format(v float64) string {
	if m.higherIsBetter {
		return sig3(v)
	}
	return duration(v * 1e6)
}

// ratio is the nook / podman cell of a driver's metric, and whether it
// meets the target.
func (m netMetric) ratio(res *results, g, driver string) (string, bool) {
	a, okA := median(res.samples[cell{g, driver, "nook"}], metricOf(m.unit))
	b, okB := median(res.samples[cell{g, driver, "podman"}], metricOf(m.unit))
	if !okA || !okB || b == 0 {
		return "—", false
	}
	v := a / b
	text := fmt.Sprintf("%.2f", v)
	switch {
	case m.higherIsBetter && v >= m.target, !m.higherIsBetter && v <= m.target:
		return text + " ✓", true
	case m.higherIsBetter:
		return text + fmt.Sprintf(" ✗ (≥ %.1f)", m.target), false
	}
	return text + fmt.Sprintf(" ✗ (≤ %.1f)", m.target), false
}

// nookPodmanTable starts the table of group g: a column per peer and, when
// nook and podman are both there, one for their ratio, which it reports.
func nookPodmanTable(w io.Writer, res *results, g string) (cols []string, withRatio bool) {
	cols = res.cols[g]
	withRatio = slices.Contains(cols, "nook") && slices.Contains(cols, "podman")
	head := append([]string{"workload"}, cols...)
	if withRatio {
		head = append(head, "nook / podman")
	}
	table(w, head)
	return cols, withRatio
}

package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
)

// A ratio column: num's median over den's, with an optional target.
type ratio struct {
	num, den string
	target   float64 // at most this is "met" (at least, with atLeast); 0 means no target
	atLeast  bool
	// applies says which rows the target is for; nil means every row.
	applies func(row string) bool
}

// ratios per group, with the issues' targets. Issue 2: every workload at
// least as fast as fuse-overlayfs; metadata walks (cold and warm) and warm
// reads within 1.5x of kernel overlayfs. Issue 3: nook run within 3x of
// the unshare floor, and at least 20x faster than podman run. Issue 4: nook
// pull at least 2x faster than podman pull. Issue 6 (the network table)
// has targets of its own, in network.go.
var ratios = map[string][]ratio{
	"Union": {
		{num: "nook-tar", den: "fuse-overlayfs", target: 1.0},
		{num: "nook-tar", den: "kernel-overlay", target: 1.5, applies: kernelTarget},
		{num: "nook-dir", den: "fuse-overlayfs", target: 1.0},
		{num: "nook-dir", den: "kernel-overlay", target: 1.5, applies: kernelTarget},
	},
	"Layer": {
		{num: "nook-index", den: "tar-x"},
	},
	"Run": {
		{num: "nook", den: "unshare", target: 3},
		{num: "podman", den: "nook", target: 20, atLeast: true},
		{num: "bwrap", den: "unshare"},
	},
	"Pull": {
		{num: "podman", den: "nook", target: 2, atLeast: true},
	},
}

// targetRules say what the ✓ and ✗ of a group's ratios mean.
var targetRules = map[string]string{
	"Union": "A ratio against fuse-overlayfs must be ≤ 1.0 on every row; against the kernel, ≤ 1.5 on the metadata walks and warm reads.",
	"Run":   "nook / unshare must be ≤ 3 (nook within 3× of the floor); podman / nook must be ≥ 20 (nook at least 20× faster than podman).",
	"Pull":  "podman / nook must be ≥ 2 (nook pull at least 2× faster than podman pull).",
	networkGroup: "On each driver, nook / podman must be ≥ 0.9 for a throughput and ≤ 1.1 for the latency " +
		"(nook within 10% of podman on the same driver).",
}

// timeUnits names the metric that is a group's time, in milliseconds, when
// ns/op is not: a BenchmarkRun op is many runs, and ms/run is their median
// (likewise a BenchmarkPull op, and ms/pull).
var timeUnits = map[string]string{
	"Run":  "ms/run",
	"Pull": "ms/pull",
}

// timeOf gets a sample's time in nanoseconds for group g.
func timeOf(g string) func(sample) (float64, bool) {
	unit, ok := timeUnits[g]
	if !ok {
		return nsOf
	}
	return func(s sample) (float64, bool) {
		v, ok := s.metrics[unit]
		return v * 1e6, ok && v > 0
	}
}

func kernelTarget(row string) bool {
	return strings.HasPrefix(row, "find-") || strings.HasPrefix(row, "ls-") ||
		(strings.HasPrefix(row, "read-") && strings.HasSuffix(row, "-warm"))
}

// Metrics shown in tables of their own, besides the time tables, in the
// group named (in every group that has the metric when group is "").
var metricTables = []struct{ group, unit, title, intro string }{
	{"", "peak-rss-MiB", "FUSE server memory",
		"Peak resident set (VmHWM) of the FUSE server process after the workload, MiB, median. Kernel overlayfs has no server."},
	{"Pull", "MiB-peak-RSS", "Pull memory",
		"Peak resident set of the pull command, MiB, median: its ru_maxrss as GNU time reports it (from wait4), the larger of " +
			"the process's own peak (VmHWM) and that of any descendant it reaped. For nook, the one nook process; for podman, podman " +
			"and the podman it re-executes inside its user namespace."},
	{"Run", "MiB-peak-RSS", "Start-up memory",
		"Peak resident set of the command, MiB, median: its ru_maxrss as GNU time reports it (from wait4), the larger of " +
			"the process's own peak (VmHWM) and that of any descendant it reaped. For nook, the monitor (the nook process, which also serves the FUSE root); " +
			"for podman, podman itself (conmon, a double-forked daemon, is not counted); for bwrap, bwrap. Not reported for unshare."},
}

var sectionTitles = map[string]string{
	"Union":      "Union filesystem: time per operation (median)",
	"Layer":      "Making a layer servable: index vs unpack (median)",
	"Run":        "Container start-up: `true` in a fresh container, start to exit (median)",
	"Pull":       "Image pull: a 6-layer, ~200 MB image from a loopback registry into an empty store (median)",
	networkGroup: "Container network: TCP throughput and published-port latency, per driver (median)",

	lifecycleGroup: "Detached containers: start, stop and remove many, and what an idle one costs (median)",
}

// sectionIntros explain a group's method above its table; the
// configuration lines with the group's prefix (run-peer-nook: ...) follow
// as a list.
var sectionIntros = map[string]struct{ text, configPrefix string }{
	"Run": {
		text: "Each run is one complete start-to-exit of `true` in a fresh container (removed after), started as the user from the\n" +
			"host's namespaces (not from the benchmark's user namespace) and timed from fork to reaped. In each round every peer runs\n" +
			"once untimed (binaries and image into the page cache; podman starts its pause process), then runs-per-round times\n" +
			"in a row (below); a cell is the median over the rounds of each round's median run. All peers start the same image; nook and podman\n" +
			"load one docker-archive into private stores, bwrap gets its layer unpacked into a directory. Why podman is\n" +
			"configured as below (runc, not Debian's crun) is in BenchmarkRun's comment in bench/run_test.go.",
		configPrefix: "run-",
	},
	"Pull": {
		text: "Each pull fetches the whole image from Debian's docker-registry on 127.0.0.1 (plain HTTP) into an empty store, as the user\n" +
			"from the host's namespaces, timed from fork to reaped. In each round every peer pulls once untimed (binaries and the\n" +
			"registry's blobs into the page cache; podman starts its pause process), then pulls-per-round times; a cell is the median\n" +
			"over the rounds of each round's median pull. nook keeps each layer as its tar plus an index (nothing unpacked), both\n" +
			"synced to disk before the image is recorded; podman unpacks every layer into a directory of files in its overlay store.\n" +
			"Podman is configured as for the start-up table; see BenchmarkPull's comment in bench/pull_test.go.",
		configPrefix: "pull-",
	},
	networkGroup: {
		text: "Each driver's containers run as the user from the host's namespaces, nook and podman on the same driver, each\n" +
			"with its driver's default path for published ports: pasta's own forwarding with pasta, rootlesskit's builtin port\n" +
			"driver with slirp4netns (in nook's monitor; podman's rootlessport). In each round a serving container (iperf3 -s and\n" +
			"busybox httpd, ports published on 127.0.0.1) answers the latency connections, then one iperf3 client on the host\n" +
			"(host → container), and is stopped with SIGTERM; then a client container runs iperf3 against a server on the host's\n" +
			"loopback, reached at the container's gateway (container → host). A cell is the median over the runs of each run's\n" +
			"median (throughputs: of its rounds; latency: of all its connections). Containers and driver processes left behind\n" +
			"fail the benchmark. See BenchmarkNetwork's comment in bench/network_test.go.",
		configPrefix: "net-",
	},
	lifecycleGroup: {
		text: "As the user from the host's namespaces, each peer starts its containers one after another (`run -d`, which returns once\n" +
			"the workload runs), reads the memory of every process they own while all of them run idle, then stops them one after\n" +
			"another (`stop -t 0`: SIGKILL at once) and removes them one after another; nook's containers, then podman's. Each\n" +
			"command is timed from fork to reaped. A total is the wall time of a whole phase; a cell is the median over the runs.\n" +
			"A container that does not start, or anything left after the stops or the removals (a container, a monitor,\n" +
			"conmon, fuse-overlayfs, a workload), fails the benchmark. See BenchmarkLifecycle's comment in bench/lifecycle_test.go.",
		configPrefix: "life-",
	},
}

// render writes the whole of docs/BENCHMARKS.md.
func render(w io.Writer, res *results, command string) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	p("# Benchmarks\n\n")
	p("Generated by `bench/cmd/benchtable` from the output of the command below (`make bench`); do not edit by hand.\n\n")
	p("Command:\n\n```\n%s\n```\n\n", command)
	p("Each cell is the median of %s; ratios divide medians, lower is better.\n", sampleCounts(res))
	p("The union and layer benchmarks run as an unprivileged user, as root of a user namespace (subordinate ids mapped),\n")
	p("on the same lower layers: a Debian rootfs (below) plus a data layer holding a 1 GiB and a\n")
	p("512 MiB file of random bytes. Each mutating workload gets a fresh mount over an empty upper;\n")
	p("mounting, unmounting and checking the result are outside the timer. The mounts' directories\n")
	p("are made in a scratch directory marked `chattr +T`, and those of untar and create-delete are\n")
	p("removed only by the next run, so that no peer's file creation pays for another's deletions\n")
	p("(ext4 without a journal skips recently freed inodes one by one; see removedDir in\n")
	p("bench/mount_test.go).\n\n")
	p("- **cold**: the first run on a fresh mount, so the union's own caches (the FUSE entry, attribute\n")
	p("  and page caches, or overlayfs's dentries) are empty. The host's page and dentry caches under\n")
	p("  the layers are warm: an unprivileged user cannot drop them.\n")
	p("- **warm**: a run after an untimed run of the same workload on the same mount.\n")
	p("- **peers**: `kernel-overlay` is `mount -t overlay -o userxattr`; `fuse-overlayfs` is Debian's\n")
	p("  binary with its default options; `nook-dir` is `nook-overlayfs` over the layers as directories,\n")
	p("  `nook-tar` over the same layers as indexed tars (`layer.Create`).\n\n")
	renderLoad(w, res)
	p("Not like for like, and why:\n\n")
	p("- copy-up: kernel overlayfs fsyncs the file it copies up (unless mounted `volatile`); the FUSE\n")
	p("  unions need not, so they can beat the kernel there.\n")
	p("- layer indexing: `layer.Create` fsyncs the tar copy and the index it writes; `tar -x` syncs nothing.\n")
	p("- noise: this is a 2-core VM; single runs of the short walks vary by tens of percent, so compare\n")
	p("  ratios within one run and only trust medians.\n\n")
	p("The rootfs, the data layer and the tar to extract are built once and cached in\n")
	p("`$XDG_CACHE_HOME/nook-bench/v1` (default `~/.cache/nook-bench/v1`); the unpacked rootfs there belongs\n")
	p("to subordinate ids, so remove it from a user namespace (`podman unshare rm -rf ~/.cache/nook-bench`).\n")
	p("`nook-overlayfs` and the layer indexes are rebuilt from the checkout on every run.\n\n")
	p("Setup:\n\n")
	if res.procs > 0 {
		p("- GOMAXPROCS (cores): %d\n", res.procs)
	}
	var work []keyValue
	for _, kv := range res.config {
		switch {
		case kv.key == "pkg" || kv.key == "goarch":
		case sectionConfig(kv.key):
		case strings.HasPrefix(kv.key, "workload-"):
			work = append(work, kv)
		default:
			p("- %s: %s\n", kv.key, strings.Join(kv.values, "; "))
		}
	}
	p("\n")
	if len(work) > 0 {
		p("Workloads (MNT is the union's mount point):\n\n")
		for _, kv := range work {
			p("- %s: %s\n", strings.TrimPrefix(kv.key, "workload-"), strings.Join(kv.values, "; "))
		}
		p("\n")
	}
	for _, g := range res.groups {
		title := sectionTitles[g]
		if title == "" {
			title = g
		}
		p("## %s\n\n", title)
		renderIntro(w, res, g)
		if g == networkGroup {
			renderNetwork(w, res, g)
			continue
		}
		if g == lifecycleGroup {
			renderLifecycle(w, res, g)
			continue
		}
		renderTimes(w, res, g)
		for _, mt := range metricTables {
			if mt.group == "" || mt.group == g {
				renderMetric(w, res, g, mt.unit, mt.title, mt.intro)
			}
		}
	}
	renderNotes(w, res)
}

// sectionConfig reports whether a configuration key belongs to a
// section's intro rather than to the setup list.
func sectionConfig(key string) bool {
	for _, in := range sectionIntros {
		if in.configPrefix != "" && strings.HasPrefix(key, in.configPrefix) {
			return true
		}
	}
	return false
}

func renderIntro(w io.Writer, res *results, g string) {
	in, ok := sectionIntros[g]
	if !ok {
		return
	}
	fmt.Fprintf(w, "%s\n\n", in.text)
	listed := false
	for _, kv := range res.config {
		if name, ok := strings.CutPrefix(kv.key, in.configPrefix); ok && in.configPrefix != "" {
			name = strings.TrimPrefix(name, "peer-")
			fmt.Fprintf(w, "- %s: %s\n", name, strings.Join(kv.values, "; "))
			listed = true
		}
	}
	if listed {
		fmt.Fprintln(w)
	}
}

func renderTimes(w io.Writer, res *results, g string) {
	cols := res.cols[g]
	var rs []ratio
	for _, r := range ratios[g] {
		if slices.Contains(cols, r.num) && slices.Contains(cols, r.den) {
			rs = append(rs, r)
		}
	}
	head := append([]string{"workload"}, cols...)
	for _, r := range rs {
		head = append(head, r.num+" / "+r.den)
	}
	table(w, head)
	met, total := 0, 0
	for _, row := range res.rows[g] {
		line := []string{row}
		for _, col := range cols {
			if m, ok := median(res.samples[cell{g, row, col}], timeOf(g)); ok {
				line = append(line, duration(m))
			} else {
				line = append(line, missing(res, cell{g, row, col}))
			}
		}
		for _, r := range rs {
			a, okA := median(res.samples[cell{g, row, r.num}], timeOf(g))
			b, okB := median(res.samples[cell{g, row, r.den}], timeOf(g))
			hasTarget := r.target > 0 && (r.applies == nil || r.applies(row))
			if !okA || !okB || b == 0 {
				if hasTarget {
					total++
				}
				line = append(line, "—")
				continue
			}
			v := a / b
			text := fmt.Sprintf("%.2f", v)
			if hasTarget {
				total++
				switch {
				case r.atLeast && v >= r.target, !r.atLeast && v <= r.target:
					met++
					text += " ✓"
				case r.atLeast:
					text += fmt.Sprintf(" ✗ (≥ %.1f)", r.target)
				default:
					text += fmt.Sprintf(" ✗ (≤ %.1f)", r.target)
				}
			}
			line = append(line, text)
		}
		table(w, line)
	}
	fmt.Fprintln(w)
	if total > 0 {
		fmt.Fprintf(w, "Targets met: %d of %d (✓ met, ✗ missed, — not measured). %s\n\n", met, total, targetRules[g])
	}
}

func renderMetric(w io.Writer, res *results, g, unit, title, intro string) {
	var rows, cols []string
	for _, row := range res.rows[g] {
		for _, col := range res.cols[g] {
			if _, ok := median(res.samples[cell{g, row, col}], metricOf(unit)); ok {
				rows = appendNew(rows, row)
				cols = appendNew(cols, col)
			}
		}
	}
	if len(rows) == 0 {
		return
	}
	// Keep the columns in the time table's order.
	slices.SortStableFunc(cols, func(a, b string) int {
		return slices.Index(res.cols[g], a) - slices.Index(res.cols[g], b)
	})
	fmt.Fprintf(w, "### %s\n\n%s\n\n", title, intro)
	table(w, append([]string{"workload"}, cols...))
	for _, row := range rows {
		line := []string{row}
		for _, col := range cols {
			if m, ok := median(res.samples[cell{g, row, col}], metricOf(unit)); ok {
				line = append(line, fmt.Sprintf("%.1f", m))
			} else {
				line = append(line, missing(res, cell{g, row, col}))
			}
		}
		table(w, line)
	}
	fmt.Fprintln(w)
}

// renderNotes lists why cells are empty, each reason once with the cells
// it emptied.
func renderNotes(w io.Writer, res *results) {
	var reasons []string
	where := map[string][]cell{}
	for _, g := range res.groups {
		for _, col := range res.cols[g] {
			for _, row := range res.rows[g] {
				c := cell{g, row, col}
				if len(res.samples[c]) > 0 {
					continue
				}
				for _, n := range res.notes[c] {
					if _, ok := where[n]; !ok {
						reasons = append(reasons, n)
					}
					where[n] = append(where[n], c)
				}
			}
		}
	}
	if len(reasons) == 0 && len(res.general) == 0 {
		return
	}
	fmt.Fprintf(w, "## Not measured\n\n")
	for _, n := range res.general {
		fmt.Fprintf(w, "- %s\n", clip(n))
	}
	for _, n := range reasons {
		fmt.Fprintf(w, "- %s: %s\n", cellList(res, where[n]), clip(n))
	}
	fmt.Fprintln(w)
}

// cellList names cells, a whole column of a group as group/*/column.
func cellList(res *results, cells []cell) string {
	var names []string
	perCol := map[[2]string]int{}
	for _, c := range cells {
		perCol[[2]string{c.group, c.col}]++
	}
	done := map[[2]string]bool{}
	for _, c := range cells {
		k := [2]string{c.group, c.col}
		switch {
		case done[k]:
		case perCol[k] == len(res.rows[c.group]):
			names = append(names, c.group+"/*/"+c.col)
			done[k] = true
		default:
			names = append(names, c.group+"/"+c.row+"/"+c.col)
		}
	}
	return "`" + strings.Join(names, "`, `") + "`"
}

func clip(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	s = strings.ReplaceAll(s, "|", `\|`)
	if len(s) > 400 {
		s = s[:400] + "…"
	}
	return s
}

func missing(res *results, c cell) string {
	for _, n := range res.notes[c] {
		if strings.HasPrefix(n, "failed") {
			return "failed"
		}
	}
	if len(res.notes[c]) > 0 {
		return "skipped"
	}
	return "—"
}

func table(w io.Writer, cells []string) {
	fmt.Fprintf(w, "| %s |\n", strings.Join(cells, " | "))
	if cells[0] == "workload" {
		seps := make([]string, len(cells))
		for i := range seps {
			seps[i] = "---:"
		}
		seps[0] = "---"
		fmt.Fprintf(w, "| %s |\n", strings.Join(seps, " | "))
	}
}

func nsOf(s sample) (float64, bool) { return s.nsPerOp, s.nsPerOp > 0 }

func metricOf(unit string) func(sample) (float64, bool) {
	return func(s sample) (float64, bool) {
		v, ok := s.metrics[unit]
		return v, ok
	}
}

// median of the values get finds in samples; false when there are none.
func median(samples []sample, get func(sample) (float64, bool)) (float64, bool) {
	var vs []float64
	for _, s := range samples {
		if v, ok := get(s); ok {
			vs = append(vs, v)
		}
	}
	if len(vs) == 0 {
		return 0, false
	}
	slices.Sort(vs)
	n := len(vs)
	if n%2 == 1 {
		return vs[n/2], true
	}
	return (vs[n/2-1] + vs[n/2]) / 2, true
}

// duration prints nanoseconds with three significant digits.
func duration(ns float64) string {
	switch {
	case ns >= 1e9:
		return sig3(ns/1e9) + " s"
	case ns >= 1e6:
		return sig3(ns/1e6) + " ms"
	case ns >= 1e3:
		return sig3(ns/1e3) + " µs"
	}
	return sig3(ns) + " ns"
}

func sig3(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", math.Round(v))
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

// sampleCounts says how many runs the medians are of.
func sampleCounts(res *results) string {
	lo, hi := 0, 0
	for _, s := range res.samples {
		if lo == 0 || len(s) < lo {
			lo = len(s)
		}
		hi = max(hi, len(s))
	}
	switch {
	case hi == 0:
		return "no runs"
	case lo == hi && lo == 1:
		return "1 run (a single run: no median, treat with care)"
	case lo == hi:
		return fmt.Sprintf("%d runs", lo)
	}
	return fmt.Sprintf("%d to %d runs", lo, hi)
}

// renderLoad says how busy the machine was while measuring (the load1 and
// cpu-wait-% metrics of every result), and warns when other work competed
// for the cores: when runnable tasks waited for a CPU a fifth of the time.
// The load average alone can mislead: tasks stuck in D state count in it.
func renderLoad(w io.Writer, res *results) {
	var all []sample
	for _, ss := range res.samples {
		all = append(all, ss...)
	}
	stats := func(unit string) (med, hi float64, ok bool) {
		med, ok = median(all, metricOf(unit))
		for _, s := range all {
			if v, found := s.metrics[unit]; found {
				hi = max(hi, v)
			}
		}
		return med, hi, ok
	}
	loadMed, loadHi, okLoad := stats("load1")
	waitMed, waitHi, okWait := stats("cpu-wait-%")
	if okLoad {
		fmt.Fprintf(w, "Load while measuring, after each result: 1-minute load average median %.1f, max %.1f", loadMed, loadHi)
		if okWait {
			fmt.Fprintf(w, "; share of the last 10 s in which a runnable task waited for a CPU (/proc/pressure/cpu) median %.0f%%, max %.0f%%", waitMed, waitHi)
		}
		fmt.Fprintln(w, ".")
	}
	contended := okWait && waitMed > 20
	if !okWait && okLoad && res.procs > 0 {
		contended = loadMed > float64(res.procs)+1
	}
	if contended {
		fmt.Fprintf(w, "**Other work competed for the %d cores during this run: the times are inflated, and unevenly, "+
			"since the load changed while the peers took their turns. Re-run on an idle machine before drawing conclusions.**\n", res.procs)
	}
	fmt.Fprintln(w)
}

package main

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
)

// A cell is one (group, row, column) of the report: BenchmarkUnion/find-stat-cold/nook-tar
// is group "Union", row "find-stat-cold", column "nook-tar"; BenchmarkPull/nook is
// group "Pull", its only row, column "nook".
type cell struct{ group, row, col string }

// sample is one result line: ns/op and the custom metrics beside it.
type sample struct {
	nsPerOp float64
	metrics map[string]float64
}

// results is everything read from go test -bench output.
type results struct {
	// config holds the "key: value" lines in order of first appearance;
	// a key whose value changed between runs (the commit, the load) keeps
	// every distinct value.
	config  []keyValue
	samples map[cell][]sample
	// notes say why a cell has no samples (skips and failures); general
	// holds failures above any cell (a benchmark's setup).
	notes   map[cell][]string
	general []string
	groups  []string            // in order of appearance
	rows    map[string][]string // group → rows in order of appearance
	cols    map[string][]string // group → columns in order of appearance
	procs   int                 // GOMAXPROCS, from the names' -N suffix
}

type keyValue struct {
	key    string
	values []string
}

var (
	configLine = regexp.MustCompile(`^([a-z][a-zA-Z0-9_-]*): (.*)$`)
	procSuffix = regexp.MustCompile(`-(\d+)$`)
)

// parse reads go test -bench output, from any number of -count runs.
func parse(r io.Reader) (*results, error) {
	res := &results{
		samples: map[cell][]sample{},
		notes:   map[cell][]string{},
		rows:    map[string][]string{},
		cols:    map[string][]string{},
	}
	keyAt := map[string]int{}
	// After a "--- SKIP:" or "--- FAIL:" line, the indented lines that
	// follow are its messages: 4 spaces start one, 8 continue it.
	var block struct {
		open    bool
		general bool
		c       cell
		kind    string
		msgs    []string
	}
	flush := func() {
		for _, m := range block.msgs {
			msg := block.kind + ": " + stripFileLine(m)
			if block.general {
				res.general = appendNew(res.general, msg)
			} else {
				res.addNote(block.c, msg)
			}
		}
		block.open, block.msgs = false, nil
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		if block.open && strings.HasPrefix(text, "    ") {
			if strings.HasPrefix(text, "        ") && len(block.msgs) > 0 {
				block.msgs[len(block.msgs)-1] += " " + strings.TrimSpace(text)
			} else {
				block.msgs = append(block.msgs, strings.TrimSpace(text))
			}
			continue
		}
		flush()
		switch {
		case strings.HasPrefix(text, "Benchmark") && len(strings.Fields(text)) >= 4:
			if err := res.addResult(text); err != nil {
				return nil, fmt.Errorf("line %d: %w", line, err)
			}
		case strings.HasPrefix(text, "nook-bench SKIP "):
			name, reason, ok := strings.Cut(strings.TrimPrefix(text, "nook-bench SKIP "), ": ")
			if c, isCell := res.cellOf(name); ok && isCell {
				res.addNote(c, "skipped: "+reason)
			}
		case strings.HasPrefix(text, "--- SKIP: "), strings.HasPrefix(text, "--- FAIL: "):
			block.open, block.kind = true, "skipped"
			if strings.HasPrefix(text, "--- FAIL: ") {
				block.kind = "failed"
			}
			name := strings.Fields(text[len("--- SKIP: "):])[0]
			block.c, block.general = cell{}, true
			if c, ok := res.cellOf(name); ok {
				block.c, block.general = c, false
			}
		default:
			if m := configLine.FindStringSubmatch(text); m != nil {
				res.addConfig(keyAt, m[1], m[2])
			}
		}
	}
	flush()
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read benchmark output: %w", err)
	}
	return res, nil
}

// addResult records a line such as
// "BenchmarkUnion/find-stat-cold/nook-tar-2  1  123 ns/op  7.1 peak-rss-MiB".
func (res *results) addResult(text string) error {
	f := strings.Fields(text)
	name := f[0]
	if m := procSuffix.FindStringSubmatch(name); m != nil {
		res.procs, _ = strconv.Atoi(m[1])
		name = strings.TrimSuffix(name, m[0])
	}
	c, ok := res.cellOf(name)
	if !ok {
		return fmt.Errorf("benchmark %q is not Benchmark<Group>/<row>/<column> (or Benchmark<Group>/<column> for a group without rows)", name)
	}
	s := sample{metrics: map[string]float64{}}
	for i := 2; i+1 < len(f); i += 2 {
		v, err := strconv.ParseFloat(f[i], 64)
		if err != nil {
			return fmt.Errorf("benchmark %s: value %q: %w", name, f[i], err)
		}
		if f[i+1] == "ns/op" {
			s.nsPerOp = v
		} else {
			s.metrics[f[i+1]] = v
		}
	}
	res.samples[c] = append(res.samples[c], s)
	return nil
}

// flatRows names the one row of the groups whose benchmarks are
// Benchmark<Group>/<column>, with no row level: BenchmarkRun/nook.
var flatRows = map[string]string{
	"Run":  "true",
	"Pull": "6-layers-200MB",
}

// cellOf splits "BenchmarkGroup/row/col" (or "BenchmarkGroup/col" for a
// group in flatRows) and registers the group, row and column in order of
// appearance.
func (res *results) cellOf(name string) (cell, bool) {
	parts := strings.Split(strings.TrimPrefix(name, "Benchmark"), "/")
	var c cell
	switch row, flat := flatRows[parts[0]]; {
	case flat && len(parts) == 2:
		c = cell{parts[0], row, parts[1]}
	case !flat && len(parts) >= 3:
		c = cell{parts[0], strings.Join(parts[1:len(parts)-1], "/"), parts[len(parts)-1]}
	default:
		return cell{}, false
	}
	if _, ok := res.rows[c.group]; !ok {
		res.groups = append(res.groups, c.group)
	}
	res.rows[c.group] = appendNew(res.rows[c.group], c.row)
	res.cols[c.group] = appendNew(res.cols[c.group], c.col)
	return c, true
}

func (res *results) addConfig(keyAt map[string]int, key, value string) {
	i, ok := keyAt[key]
	if !ok {
		keyAt[key] = len(res.config)
		res.config = append(res.config, keyValue{key, []string{value}})
		return
	}
	res.config[i].values = appendNew(res.config[i].values, value)
}

func (res *results) addNote(c cell, msg string) {
	res.notes[c] = appendNew(res.notes[c], msg)
}

func appendNew(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

// stripFileLine drops the "file_test.go:123: " go test puts before a message.
func stripFileLine(msg string) string {
	if i := strings.Index(msg, ".go:"); i > 0 && !strings.Contains(msg[:i], " ") {
		if j := strings.Index(msg[i+4:], ": "); j >= 0 {
			return msg[i+4+j+2:]
		}
	}
	return msg
}

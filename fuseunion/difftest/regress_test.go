package difftest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// diffCase is a fixed differential case: a regression file or a table entry.
//
//	# comment lines
//	backing name=tmpfs        (optional; default disk)
//	layer                     (bottom layer first)
//	dir p=d mode=0755
//	file p=d/a data="x"
//	layer
//	whiteout p=d/a
//	ops
//	rename p=d q=e
type diffCase struct {
	backing string
	spec    fixtureSpec
	ops     []op
}

func parseCase(text string) (diffCase, error) {
	c := diffCase{backing: "disk"}
	lines, err := parseLines(text)
	if err != nil {
		return c, err
	}
	split := -1
	for i, l := range lines {
		if l.kind == "ops" {
			split = i
			break
		}
	}
	if split < 0 {
		return c, fmt.Errorf("no ops line")
	}
	fix := lines[:split]
	if len(fix) > 0 && fix[0].kind == "backing" {
		c.backing = fix[0].fields["name"]
		fix = fix[1:]
	}
	if c.spec, err = parseFixture(fix); err != nil {
		return c, err
	}
	if c.ops, err = parseOps(lines[split+1:]); err != nil {
		return c, err
	}
	return c, nil
}

// runCase compares every candidate with the reference on c, checking the
// trees after every op.
func runCase(t *testing.T, c diffCase) {
	t.Helper()
	b := newBacking(t, c.backing)
	l := newLayers(t, c.spec)
	for _, cand := range candidates(t) {
		mm, err := replay(l, b, cand, c.ops, 1)
		if err != nil {
			t.Errorf("%s: %v", cand, err)
			continue
		}
		if mm != nil {
			t.Errorf("%s\nops:\n%s", mm.Error(), indent(formatOps(c.ops[:mm.at])))
		}
	}
}

// TestRegressions replays testdata/regressions/*.txt: failing random seeds,
// minimised.
func TestRegressions(t *testing.T) {
	requireKernel(t)
	files, err := filepath.Glob("testdata/regressions/*.txt")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".txt"), func(t *testing.T) {
			text, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			c, err := parseCase(string(text))
			if err != nil {
				t.Fatalf("parse %s: %v", f, err)
			}
			runCase(t, c)
		})
	}
}

func splitLines(s string) []string {
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

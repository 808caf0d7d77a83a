package difftest

import (
	"fmt"
	"testing"
	"time"
)

// TestDifferentialRandom runs -difftest.seeds seeds of -difftest.ops random
// ops each on kernel overlayfs and every candidate, in lock step. A
// difference fails the seed with the minimised case, ready to be saved as
// testdata/regressions/NAME.txt.
func TestDifferentialRandom(t *testing.T) {
	requireKernel(t)
	cands := candidates(t)
	// One minimisation budget for the whole run, so that a bug every seed
	// hits costs minutes once, not per seed.
	deadline := time.Now().Add(minimiseBudget)
	for i := 0; i < *flagSeeds; i++ {
		seed := *flagFirstSeed + int64(i)
		bname := backingNames[int(seed)%len(backingNames)]
		t.Run(fmt.Sprintf("seed=%d/%s", seed, bname), func(t *testing.T) {
			runSeed(t, seed, newBacking(t, bname), cands, deadline)
		})
	}
}

func runSeed(t *testing.T, seed int64, b backing, cands []string, deadline time.Time) {
	spec := generateFixture(seed)
	l := newLayers(t, spec)
	ms, err := mountAll(l, b, cands)
	if err != nil {
		t.Fatalf("seed %d: %v", seed, err)
	}
	r := newRunner(ms[0], ms[1:])
	g := newGenerator(seed)
	var mm *mismatch
	for i := 0; i < *flagOps && mm == nil; i++ {
		o, err := g.next(ms[0].root)
		for tries := 0; err == nil && r.sameFile(o) && tries < 20; tries++ {
			o, err = g.next(ms[0].root)
		}
		if err == nil && r.sameFile(o) {
			continue
		}
		if err == nil {
			mm, err = r.step(o)
		}
		if err == nil && mm == nil && ((i+1)%*flagCheckEvery == 0 || i == *flagOps-1) {
			mm, err = r.check()
		}
		if err != nil {
			unmountAll(ms)
			t.Fatalf("seed %d: harness or reference failed after %d ops: %v\nops:\n%s", seed, len(r.ops), err, formatOps(r.ops))
		}
	}
	if err := unmountAll(ms); err != nil {
		t.Errorf("seed %d: %v", seed, err)
	}
	if mm == nil {
		t.Logf("seed %d: %d ops, trees and errnos match on %v; kernel results: %s", seed, len(r.ops), cands, r.outcomeSummary())
		return
	}
	reportMismatch(t, fmt.Sprintf("seed %d", seed), b, spec, r.ops[:mm.at], mm, deadline)
}

// reportMismatch minimises a failing case and fails t with it.
func reportMismatch(t *testing.T, origin string, b backing, spec fixtureSpec, ops []op, mm *mismatch, deadline time.Time) {
	t.Helper()
	// Replaying with a tree check after every op finds the earliest
	// difference; that one is what gets minimised and reported.
	if first, err := replay(newLayers(t, spec), b, mm.cand, ops, 1); err == nil && first != nil {
		mm, ops = first, ops[:first.at]
	}
	s := &shrinker{t: t, b: b, cand: mm.cand, key: mm.key, deadline: deadline}
	spec2, ops2 := s.minimise(spec, ops)
	final, err := replay(newLayers(t, spec2), b, mm.cand, ops2, 1)
	if err != nil || final == nil {
		// Shrinking lost it (a flaky difference?): report the original.
		spec2, ops2, final = spec, ops, mm
	}
	t.Errorf("%s: %s\n(%d ops, minimised to %d in %d replays)\nop sequence (last op first seen to differ: %s):\n%s\nas a regression case:\n%s",
		origin, final.Error(), len(ops), len(ops2), s.trials, ops2[max(final.at, 1)-1], indent(formatOps(ops2)),
		caseText(fmt.Sprintf("%s: %s", origin, final.Error()), b, spec2, ops2))
}

func indent(s string) string {
	out := ""
	for _, l := range splitLines(s) {
		out += "\t" + l + "\n"
	}
	return out
}

// TestGeneratedFixturesOnKernel: the reference can list the generated
// fixtures (a whiteout the kernel would list makes lookup fail on a listed
// name, see whiteoutListed).
func TestGeneratedFixturesOnKernel(t *testing.T) {
	requireKernel(t)
	b := backing{name: "disk", dir: t.TempDir()}
	for seed := int64(1); seed <= 150; seed++ {
		m, err := mountUnion(candKernel, newLayers(t, generateFixture(seed)), b)
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		if _, err := listTree(m.root); err != nil {
			t.Errorf("seed %d: %v", seed, err)
		}
		if err := m.unmount(); err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
	}
}

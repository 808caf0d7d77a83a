package difftest

import (
	"strings"
	"testing"
	"time"
)

// minimiseBudget bounds the time one test run spends shrinking failures;
// what is left unshrunk then is reported as it is.
const minimiseBudget = 2 * time.Minute

// shrinker holds what one failure needs to be replayed: it fails when a
// replay shows a difference of the same kind on the same candidate.
type shrinker struct {
	t        testing.TB
	b        backing
	cand     string
	key      string
	deadline time.Time
	trials   int
}

func (s *shrinker) fails(l *layers, ops []op) bool {
	s.trials++
	// Trees are compared after every op for short lists only; a
	// difference in a tree usually persists to the end, where it is
	// always compared.
	every := 0
	if len(ops) <= 40 {
		every = 1
	}
	mm, err := replay(l, s.b, s.cand, ops, every)
	if err != nil {
		s.t.Logf("replay while minimising: %v", err)
		return false
	}
	return mm != nil && mm.cand == s.cand && mm.key == s.key
}

// minimise shrinks the op list (ddmin), then the fixture, as far as the
// time budget allows.
func (s *shrinker) minimise(spec fixtureSpec, ops []op) (fixtureSpec, []op) {
	l := newLayers(s.t, spec)
	n := 2
	for len(ops) >= 2 && time.Now().Before(s.deadline) {
		chunk := (len(ops) + n - 1) / n
		reduced := false
		for start := 0; start < len(ops) && time.Now().Before(s.deadline); start += chunk {
			end := min(start+chunk, len(ops))
			try := append(append([]op{}, ops[:start]...), ops[end:]...)
			if s.fails(l, try) {
				ops, n, reduced = try, max(n-1, 2), true
				break
			}
		}
		if !reduced {
			if n >= len(ops) {
				break
			}
			n = min(2*n, len(ops))
		}
	}
	// Then drop fixture entries one at a time, last first.
	for li := len(spec.Layers) - 1; li >= 0; li-- {
		for ei := len(spec.Layers[li]) - 1; ei >= 0 && time.Now().Before(s.deadline); ei-- {
			if ei >= len(spec.Layers[li]) {
				continue
			}
			try := withoutEntry(spec, li, ei)
			if fixtureValid(try) && s.fails(newLayers(s.t, try), ops) {
				spec = try
			}
		}
	}
	return spec, ops
}

// withoutEntry removes entry ei of layer li, with what depends on it in
// that layer: its children and hardlinks to it.
func withoutEntry(spec fixtureSpec, li, ei int) fixtureSpec {
	gone := spec.Layers[li][ei].Path
	out := fixtureSpec{Layers: make([][]entry, len(spec.Layers))}
	for i, l := range spec.Layers {
		for _, e := range l {
			if i == li && (e.Path == gone || strings.HasPrefix(e.Path, gone+"/") ||
				e.Kind == "hardlink" && (e.Target == gone || strings.HasPrefix(e.Target, gone+"/"))) {
				continue
			}
			out.Layers[i] = append(out.Layers[i], e)
		}
	}
	return out
}

// caseText renders a failing case in the regression file format.
func caseText(comment string, b backing, spec fixtureSpec, ops []op) string {
	var s strings.Builder
	for _, c := range strings.Split(strings.TrimRight(comment, "\n"), "\n") {
		s.WriteString("# " + c + "\n")
	}
	s.WriteString("backing name=" + b.name + "\n")
	s.WriteString(spec.String())
	s.WriteString("ops\n")
	s.WriteString(formatOps(ops))
	return s.String()
}

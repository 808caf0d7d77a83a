package difftest

import (
	"strings"
	"testing"
)

// Tests of the harness's pure parts: they need no namespace or mount, so
// a broken comparison cannot hide behind a skipped kernel test.

func TestSpecRoundTrip(t *testing.T) {
	for seed := int64(1); seed <= 50; seed++ {
		f := generateFixture(seed)
		text := f.String()
		lines, err := parseLines(text)
		if err != nil {
			t.Fatalf("seed %d: parse generated fixture: %v\n%s", seed, err, text)
		}
		g, err := parseFixture(lines)
		if err != nil {
			t.Fatalf("seed %d: parse generated fixture: %v\n%s", seed, err, text)
		}
		if g.String() != text {
			t.Fatalf("seed %d: fixture does not round-trip:\n%s\nbecame\n%s", seed, text, g.String())
		}
	}
	ops := []op{
		{Kind: "write", P: "a b/c", Data: "x\n\"=#", Rep: 3, Off: 7},
		{Kind: "rename", P: "a", Q: "", Flags: "exchange", As: 1000},
		{Kind: "chown", P: "d", Uid: -1, Gid: 65534, Flags: "nofollow"},
		{Kind: "utimes", P: "d", Sec: 1200000000, Nsec: 5},
		{Kind: "setxattr", P: "d", Name: "user.a", Value: "", Flags: "create"},
		{Kind: "mkdir", P: "n", Mode: 0o2775},
		{Kind: "symlink", P: "s", Q: "../x y"},
	}
	lines, err := parseLines(formatOps(ops))
	if err != nil {
		t.Fatal(err)
	}
	back, err := parseOps(lines)
	if err != nil {
		t.Fatal(err)
	}
	for i := range ops {
		want := ops[i]
		if want.Rep == 0 {
			want.Rep = 1
		}
		if want.Mode == 0 {
			want.Mode = 0o644
		}
		if back[i] != want {
			t.Errorf("op %d: %+v became %+v", i, want, back[i])
		}
	}
}

func TestParseTimespec(t *testing.T) {
	for in, want := range map[string][2]int64{
		"1100000000":            {1100000000, 0},
		"1100000000.5":          {1100000000, 500000000},
		"1100000000.000000001":  {1100000000, 1},
		"1100000000.123456789":  {1100000000, 123456789},
		"1100000000.1234567890": {-1, -1},
		"1100000000.x":          {-1, -1},
	} {
		sec, nsec, err := parseTimespec(in)
		if want[0] < 0 {
			if err == nil {
				t.Errorf("%s: parsed, want an error", in)
			}
			continue
		}
		if err != nil || sec != want[0] || nsec != want[1] {
			t.Errorf("%s: %d.%09d %v, want %d.%09d", in, sec, nsec, err, want[0], want[1])
		}
	}
}

// TestGeneratedFixturesValid: the generator never makes whiteouts the
// kernel would list (see whiteoutListed), no path twice in a layer, and
// every hardlink has a target.
func TestGeneratedFixturesValid(t *testing.T) {
	for seed := int64(1); seed <= 2000; seed++ {
		f := generateFixture(seed)
		if !fixtureValid(f) {
			t.Fatalf("seed %d: fixture has a whiteout the kernel would list:\n%s", seed, f)
		}
		for _, l := range f.Layers {
			files := map[string]bool{}
			seen := map[string]bool{}
			for _, e := range l {
				if seen[e.Path] {
					t.Fatalf("seed %d: %s twice in one layer:\n%s", seed, e.Path, f)
				}
				seen[e.Path] = true
				if e.Kind == "file" {
					files[e.Path] = true
				}
				if e.Kind == "hardlink" && !files[e.Target] {
					t.Fatalf("seed %d: hardlink %s to %s, not an earlier file of its layer", seed, e.Path, e.Target)
				}
			}
		}
	}
}

func snap(nodes ...*node) *snapshot {
	s := &snapshot{nodes: map[string]*node{}}
	for _, n := range nodes {
		s.nodes[n.Path] = n
		s.paths = append(s.paths, n.Path)
	}
	return s
}

func TestCompareSnapshots(t *testing.T) {
	dir := func(p string, nlink uint64, ino uint64) *node {
		return &node{Path: p, Type: "dir", Mode: 0o755, Nlink: nlink, Ident: ident{1, ino}, Sec: 1600000000}
	}
	file := func(p string, ino uint64, sec int64) *node {
		return &node{Path: p, Type: "file", Mode: 0o644, Nlink: 1, Ident: ident{1, ino}, Sec: sec, Data: `"x"`}
	}
	ref := snap(dir("", 1, 1), dir("d", 2, 2), file("d/a", 3, 1100000000), file("d/b", 4, 1600000000))
	same := snap(dir("", 3, 10), dir("d", 2, 20), file("d/a", 30, 1100000000), file("d/b", 40, 1700000000))
	if diffs := compareSnapshots(ref, same, newTaint()); len(diffs) != 0 {
		t.Errorf("equal trees (other inode numbers, true root nlink, other 'now'): %v", diffs)
	}
	for name, tc := range map[string]struct {
		cand *snapshot
		want string
	}{
		"shared inode":     {snap(dir("", 1, 10), dir("d", 2, 20), file("d/a", 30, 1100000000), file("d/b", 30, 1600000000)), "shares its inode"},
		"explicit mtime":   {snap(dir("", 1, 10), dir("d", 2, 20), file("d/a", 30, 1700000000), file("d/b", 40, 1600000000)), "mtime now"},
		"wrong root nlink": {snap(dir("", 2, 10), dir("d", 2, 20), file("d/a", 30, 1100000000), file("d/b", 40, 1600000000)), "nlink 2, want 1"},
		"missing":          {snap(dir("", 1, 10), dir("d", 2, 20), file("d/a", 30, 1100000000)), "missing"},
	} {
		diffs := compareSnapshots(ref, tc.cand, newTaint())
		if !strings.Contains(strings.Join(diffs, "\n"), tc.want) {
			t.Errorf("%s: diffs %v, want one saying %q", name, diffs, tc.want)
		}
	}
	// A tainted name is compared by type only.
	tnt := newTaint()
	tnt.ref[ident{1, 3}] = true
	changed := snap(dir("", 1, 10), dir("d", 2, 20), &node{Path: "d/a", Type: "file", Mode: 0o600, Nlink: 2, Ident: ident{1, 40}, Sec: 1200000000}, file("d/b", 40, 1600000000))
	if diffs := compareSnapshots(ref, changed, tnt); len(diffs) != 0 {
		t.Errorf("tainted d/a: %v", diffs)
	}
	if diffs := selfConsistent(changed); len(diffs) == 0 {
		t.Errorf("selfConsistent accepted two names of one inode with different modes")
	}
}

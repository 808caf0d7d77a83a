package difftest

import (
	"flag"
	"fmt"
	"strings"
	"testing"

	"github.com/nookrun/nook/internal/nstest"
)

// Test flags. Pass them after the package, e.g.
//
//	go test ./fuseunion/difftest/ -run Random -args -difftest.seeds=50 -difftest.ops=2000
var (
	flagSeeds      = flag.Int("difftest.seeds", 12, "random seeds to run (seeds first..first+N-1)")
	flagFirstSeed  = flag.Int64("difftest.seed", 1, "first random seed")
	flagOps        = flag.Int("difftest.ops", 500, "ops per random seed")
	flagCheckEvery = flag.Int("difftest.check", 25, "compare whole trees every N ops (and at the end)")
	flagCandidates = flag.String("difftest.candidates", "", "comma-separated candidates compared with kernel overlayfs: "+
		candNookDir+", "+candNookTar+", "+candFuseOverlayfs+" (default: "+strings.Join(defaultCandidates, ",")+")")
)

func TestMain(m *testing.M) { nstest.Main(m) }

// candidates returns the candidates this run compares.
func candidates(t testing.TB) []string {
	t.Helper()
	if *flagCandidates == "" {
		return defaultCandidates
	}
	var out []string
	for _, c := range strings.Split(*flagCandidates, ",") {
		switch c = strings.TrimSpace(c); c {
		case candNookDir, candNookTar, candFuseOverlayfs:
			out = append(out, c)
		default:
			t.Fatalf("-difftest.candidates: unknown candidate %q", c)
		}
	}
	return out
}

// requireKernel skips (or fails, in strict mode) unless this test can
// mount kernel overlayfs and FUSE in its user namespace.
func requireKernel(t testing.TB) {
	t.Helper()
	nstest.RequireFUSE(t)
	l := newLayers(t, fixtureSpec{Layers: [][]entry{{{Kind: "file", Path: "a", Mode: 0o644, Sec: defaultSec}}}})
	b := backing{name: "disk", dir: t.TempDir()}
	m, err := mountUnion(candKernel, l, b)
	if err != nil {
		nstest.Skip(t, fmt.Sprintf("kernel overlayfs in a user namespace (Linux >= 5.11 with userxattr): %v", err))
		return
	}
	if err := m.unmount(); err != nil {
		t.Fatalf("unmount probe overlay: %v", err)
	}
}

// backings alternate per seed so both upper filesystems are covered.
var backingNames = []string{"disk", "tmpfs"}

package difftest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/hanwen/go-fuse/v2/posixtest"
)

// posixKnownFailures lists the go-fuse posixtest cases (name/variant) that
// cannot pass on fuseunion, each with the reason. A listed case that
// passes fails TestPosix, so the list cannot go stale.
var posixKnownFailures = map[string]string{
	// The case takes a write lock with F_SETLK on one descriptor and
	// expects a read lock on a second descriptor of the same file, from
	// the same process, to fail with EAGAIN. POSIX record locks belong to
	// the process, so the second lock just replaces the first on every
	// filesystem: kernel overlayfs and ext4 fail it the same way, and
	// go-fuse's own TestAll skips it ("TODO - fix this test").
	"FcntlFlockLocksFile/upper": "the case is wrong: POSIX locks of one process never conflict",
	"FcntlFlockLocksFile/lower": "the case is wrong: POSIX locks of one process never conflict",
}

// posixVariants: where in the union each posixtest case runs. "upper" is
// a directory made through the union (pure upper); "lower" is an empty
// directory of the lower layer, so the case's first write merges it.
var posixVariants = []string{"upper", "lower"}

// envPosixChild makes TestPosix run one posixtest case in-process: the
// parent TestPosix runs each case in its own child process (the test
// binary again, inside the same namespaces) so that a case that hangs or
// leaks cannot take the others along.
const envPosixChild = "NOOK_DIFFTEST_POSIX_CASE"

const posixTimeout = 2 * time.Minute

// TestPosix runs every case of go-fuse's posixtest.All (including its
// xfstests ports, DirSeek) against fuseunion over dir and tar lowers.
func TestPosix(t *testing.T) {
	requireKernel(t)
	if spec := os.Getenv(envPosixChild); spec != "" {
		posixChild(t, spec)
		return
	}
	names := make([]string, 0, len(posixtest.All))
	for n := range posixtest.All {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, cand := range nookCandidates {
		for _, variant := range posixVariants {
			for _, name := range names {
				key := name + "/" + variant
				t.Run(cand+"/"+key, func(t *testing.T) {
					out, err := runPosixChild(cand, variant, name)
					reason, known := posixKnownFailures[key]
					switch {
					case err == nil && known:
						t.Errorf("passes now; remove %q from posixKnownFailures (%s)", key, reason)
					case err != nil && known:
						t.Logf("fails as listed (%s): %v", reason, err)
					case err != nil:
						t.Errorf("%v\n%s", err, tail(out, 40))
					}
				})
			}
		}
	}
}

func runPosixChild(cand, variant, name string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), posixTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/proc/self/exe", "-test.run", "^TestPosix$", "-test.v", "-test.count", "1", "-test.timeout", posixTimeout.String())
	cmd.Args[0] = os.Args[0]
	cmd.Env = append(os.Environ(), envPosixChild+"="+cand+" "+variant+" "+name)
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		return string(out), fmt.Errorf("posixtest %s hung: killed after %v", name, posixTimeout)
	}
	if err != nil {
		return string(out), fmt.Errorf("posixtest %s failed: %v", name, err)
	}
	return string(out), nil
}

// posixChild runs the one case spec names, in this process.
func posixChild(t *testing.T, spec string) {
	f := strings.Fields(spec)
	if len(f) != 3 {
		t.Fatalf("%s=%q: want CANDIDATE VARIANT NAME", envPosixChild, spec)
	}
	cand, variant, name := f[0], f[1], f[2]
	fn, ok := posixtest.All[name]
	if !ok {
		t.Fatalf("no posixtest %q", name)
	}
	lines, err := parseLines("layer\ndir p=lower\ndir p=lower/" + name + "\n")
	if err != nil {
		t.Fatal(err)
	}
	fx, err := parseFixture(lines)
	if err != nil {
		t.Fatal(err)
	}
	l := newLayers(t, fx)
	m, err := mountUnion(cand, l, backing{name: "disk", dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := m.unmount(); err != nil {
			t.Errorf("unmount: %v", err)
		}
	})
	dir := join(m.root, "lower/"+name)
	if variant == "upper" {
		dir = join(m.root, "upper-"+name)
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Run(name+"/"+variant, func(t *testing.T) { fn(t, dir) })
}

func tail(s string, n int) string {
	lines := splitLines(s)
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/nookrun/nook/image/imagetest"
	"github.com/nookrun/nook/internal/testregistry"
)

// pullsPerOp is how many timed pulls one BenchmarkPull op is (make bench
// runs each benchmark once, -benchtime 1x); odd, so the median is one
// pull's time.
const pullsPerOp = 5

// BenchmarkPull times pulling a ~200 MB image of six layers (see
// pullLayers) from Debian's docker-registry on loopback into an empty
// store, side by side: BenchmarkPull/<peer>, with peers nook (`nook pull
// -q`, this checkout's) and podman (`podman pull -q --tls-verify=false`,
// rootless, configured as for BenchmarkRun). The registry is
// internal/testregistry's, plain HTTP on 127.0.0.1, its storage kept in
// the benchmark cache so the image is generated and pushed only once.
//
// Both pull as the user from the host's namespaces, through the host
// runner (podman needs its own user namespace, which it cannot make
// inside nstest's), timed from fork to reaped. Each peer pulls once
// untimed (binaries, and the registry's blobs, into the page cache;
// podman starts its pause process), then pullsPerOp times, each into an
// empty store: nook gets a new XDG_DATA_HOME for each pull, podman's
// store is emptied with `podman rmi -a -f` (and checked to hold no
// layer). Before each pull the dirty pages of the run directory's
// filesystem are written back, outside the timer. ms/pull is the median
// pull.
//
// MiB-peak-RSS is the command's ru_maxrss as GNU time reports it (the
// larger of its own peak resident set and that of any descendant it
// reaped: for podman, the podman it re-executes in its user namespace),
// median over the timed pulls, which run under GNU time (its fork and
// exec add about a millisecond to pulls of seconds).
//
// Not like for like: nook syncs each layer's tar and index to disk before
// the image is recorded (layer.Create); podman unpacks each layer into a
// directory of files instead, the work nook's format avoids.
func BenchmarkPull(b *testing.B) {
	pe, err := newPullEnv(context.Background())
	if pe != nil {
		b.Cleanup(func() {
			if err := pe.close(); err != nil {
				b.Errorf("clean up the pull benchmark: %v", err)
			}
		})
	}
	if err != nil {
		if reason, ok := pullSkip(err); ok {
			skip(b, reason)
		}
		b.Fatalf("set up the pull benchmark: %v", err)
	}
	peers := pullPeers(pe)
	printPullConfig(pe, peers)
	for _, p := range peers {
		b.Run(p.name, func(b *testing.B) { measurePull(b, pe, p) })
	}
}

func measurePull(b *testing.B, pe *pullEnv, p pullPeer) {
	if p.unavailable != "" {
		skip(b, p.unavailable)
	}
	if p.broken != nil {
		b.Fatal(p.broken)
	}
	b.StopTimer()
	pull := func(i int) (ms, mib float64) {
		env, err := p.fresh(i)
		if err != nil {
			b.Fatalf("%s: %v", p.name, err)
		}
		env = append(slices.Clone(p.env), env...)
		if err := syncfs(pe.re.dir); err != nil {
			b.Fatal(err)
		}
		args := p.args
		if pe.re.gnuTime != "" {
			args = append([]string{pe.re.gnuTime, "-f", "%M", "-o", pe.rssFile}, args...)
		}
		b.StartTimer()
		res, err := pe.re.host.run(env, args...)
		b.StopTimer()
		if err != nil {
			b.Fatalf("%s: %v", p.name, err)
		}
		if pe.re.gnuTime != "" {
			if mib, err = readMaxRSS(pe.rssFile); err != nil {
				b.Fatalf("%s: %v", p.name, err)
			}
		}
		if err := p.reset(); err != nil {
			b.Fatalf("%s: %v", p.name, err)
		}
		return float64(res.Wall.Nanoseconds()) / 1e6, mib
	}
	pull(0) // untimed
	var ms, mib []float64
	b.ResetTimer()
	for range b.N {
		for i := range pullsPerOp {
			t, m := pull(i + 1)
			ms = append(ms, t)
			mib = append(mib, m)
		}
	}
	b.ReportMetric(middle(ms), "ms/pull")
	if pe.re.gnuTime != "" {
		b.ReportMetric(middle(mib), "MiB-peak-RSS")
	}
	reportLoad(b)
}

// readMaxRSS reads GNU time's %M (KiB) and returns MiB.
func readMaxRSS(path string) (float64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("read GNU time's output: %w", err)
	}
	// GNU time writes a "Command exited with non-zero status" line first
	// when the command failed; the number is the last line.
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	kib, err := strconv.ParseFloat(lines[len(lines)-1], 64)
	if err != nil {
		return 0, fmt.Errorf("GNU time's maximum RSS %q: %w", b, err)
	}
	return kib / 1024, nil
}

// printPullConfig prints the pull benchmark's configuration lines; the
// pull-* ones describe the Pull table.
func printPullConfig(pe *pullEnv, peers []pullPeer) {
	fmt.Printf("pull-image: %s\n", pe.reg.about)
	fmt.Printf("pull-registry: %s on 127.0.0.1, plain HTTP, storage on %s\n", version("docker-registry", "--version"), fsType(pe.reg.reg.Dir()))
	fmt.Printf("pull-pulls-per-round: %d, each into an empty store, after one untimed pull\n", pullsPerOp)
	fmt.Printf("pull-peak-rss: %s\n", pe.rssHow)
	for _, p := range peers {
		if len(p.args) == 0 {
			continue
		}
		args := slices.Clone(p.args)
		if p.name == "nook" {
			args[0] = "nook"
		}
		args[len(args)-1] = "127.0.0.1:PORT/" + pullRepoTag
		fmt.Printf("pull-peer-%s: `%s`\n", p.name, strings.Join(args, " "))
	}
	fmt.Printf("podman: %s; %s; %s\n", version("podman", "--version"), version("runc", "--version"), version("conmon", "--version"))
}

// fsType names the filesystem holding dir.
func fsType(dir string) string {
	out, err := exec.Command("findmnt", "-no", "FSTYPE", "-T", dir).Output()
	if err != nil {
		return "an unknown filesystem"
	}
	return strings.TrimSpace(string(out))
}

// pullEnv is what BenchmarkPull's peers share: BenchmarkRun's environment
// (host runner, private directory, this checkout's nook, GNU time) and the
// registry.
type pullEnv struct {
	re      *runEnv
	reg     *pullRegistry
	rssFile string
	rssHow  string
}

func newPullEnv(ctx context.Context) (*pullEnv, error) {
	re, err := newRunEnv()
	if re == nil {
		return nil, err
	}
	pe := &pullEnv{re: re, rssFile: filepath.Join(re.dir, "pull-maxrss"), rssHow: re.rssHow}
	if re.gnuTime != "" {
		pe.rssHow = "GNU time -f %M around each timed pull, median"
	}
	if err != nil {
		return pe, err
	}
	pe.reg, err = startPullRegistry(ctx)
	if pe.reg != nil {
		re.cleanups = append(re.cleanups, pe.reg.close)
	}
	return pe, err
}

func (pe *pullEnv) close() error { return pe.re.close() }

// pullSkip says whether err is a missing tool (a skip, which
// NOOK_TEST_STRICT=1 makes a failure) rather than a broken setup.
func pullSkip(err error) (string, bool) {
	if errors.Is(err, testregistry.ErrNoRegistry) || errors.Is(err, imagetest.ErrNoBusybox) {
		return err.Error(), true
	}
	return "", false
}

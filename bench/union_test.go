package bench

import (
	"fmt"
	"strings"
	"testing"

	"github.com/nookrun/nook/internal/nstest"
)

// BenchmarkUnion runs every workload on every peer:
// BenchmarkUnion/<workload>/<peer>. Only the workload itself is timed.
func BenchmarkUnion(b *testing.B) {
	nstest.RequireFUSE(b)
	e, err := sharedEnv()
	if err != nil {
		b.Fatalf("set up the benchmark environment: %v", err)
	}
	ps := peers(e)
	for _, w := range workloads {
		b.Run(w.name, func(b *testing.B) {
			for _, p := range ps {
				b.Run(p.name, func(b *testing.B) { measure(b, e, w, p) })
			}
		})
	}
}

func measure(b *testing.B, e *env, w workload, p peer) {
	if p.unavailable != "" {
		skip(b, p.unavailable)
	}
	b.StopTimer()
	b.ResetTimer()
	var peak float64
	after := func(m *mounted) {
		if w.check != nil {
			if err := w.check(e, m.dir); err != nil {
				b.Fatalf("%s on %s did not do its work: %v", w.name, p.name, err)
			}
		}
		if w.rss && m.pid != 0 {
			mib, err := peakRSS(m.pid)
			if err != nil {
				b.Fatal(err)
			}
			peak = max(peak, mib)
		}
	}
	switch w.shape {
	case fresh:
		for range b.N {
			m := mustMount(b, e, p)
			m.setAside = w.manyFiles
			if err := settle(e); err != nil {
				b.Fatal(err)
			}
			if w.prepare != nil {
				if err := w.prepare(e); err != nil {
					b.Fatalf("prepare %s on %s: %v", w.name, p.name, err)
				}
			}
			b.StartTimer()
			err := w.run(e, m.dir)
			b.StopTimer()
			if err != nil {
				b.Fatalf("%s on %s: %v", w.name, p.name, err)
			}
			after(m)
			if err := m.close(); err != nil {
				b.Fatal(err)
			}
		}
	case warm:
		m := mustMount(b, e, p)
		if err := w.run(e, m.dir); err != nil {
			b.Fatalf("%s on %s, untimed first run: %v", w.name, p.name, err)
		}
		if err := settle(e); err != nil {
			b.Fatal(err)
		}
		for range b.N {
			b.StartTimer()
			err := w.run(e, m.dir)
			b.StopTimer()
			if err != nil {
				b.Fatalf("%s on %s: %v", w.name, p.name, err)
			}
			after(m)
		}
		if err := m.close(); err != nil {
			b.Fatal(err)
		}
	}
	if peak > 0 {
		b.ReportMetric(peak, "peak-rss-MiB")
	}
	reportLoad(b)
}

// mustMount mounts p, and unmounts it at the end of the benchmark if a
// failure stops it before its own close.
func mustMount(b *testing.B, e *env, p peer) *mounted {
	b.Helper()
	m, err := mountPeer(e, p)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = m.close() })
	return m
}

// skip records why a peer cannot run in a line benchtable reads (go test
// prints skip reasons only with -v), then skips (fails with
// NOOK_TEST_STRICT=1).
func skip(b *testing.B, reason string) {
	b.Helper()
	fmt.Printf("nook-bench SKIP %s: %s\n", b.Name(), strings.Join(strings.Fields(reason), " "))
	nstest.Skip(b, reason)
}

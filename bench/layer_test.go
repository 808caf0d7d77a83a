package bench

import (
	"fmt"
	"os"
	"testing"

	"github.com/nookrun/nook/internal/nstest"
)

// BenchmarkLayer compares turning the Debian rootfs tar into something a
// union can serve: nook indexes it (layer.Create: a copy of the tar plus an
// index), the classic way unpacks it (tar -x, as root of the namespace so
// owners are kept). BenchmarkLayer/debian-rootfs/<method>.
func BenchmarkLayer(b *testing.B) {
	nstest.Require(b)
	e, err := sharedEnv()
	if err != nil {
		b.Fatalf("set up the benchmark environment: %v", err)
	}
	b.Run("debian-rootfs", func(b *testing.B) {
		b.Run("nook-index", func(b *testing.B) {
			if e.mklayerErr != nil {
				skip(b, e.mklayerErr.Error())
			}
			timeInFreshDir(b, e, func(dir string) error {
				_, err := e.index(e.rootfsTar, dir)
				return err
			})
		})
		b.Run("tar-x", func(b *testing.B) {
			timeInFreshDir(b, e, func(dir string) error {
				return run("tar", "--numeric-owner", "-xf", e.rootfsTar, "-C", dir)
			})
		})
	})
}

// timeInFreshDir times f once per iteration, each time on a new empty
// directory, created and removed outside the timer.
func timeInFreshDir(b *testing.B, e *env, f func(dir string) error) {
	b.StopTimer()
	b.ResetTimer()
	for range b.N {
		dir, err := os.MkdirTemp(e.scratch, "layer-")
		if err != nil {
			b.Fatal(err)
		}
		if err := settle(e); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		err = f(dir)
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		if err := os.RemoveAll(dir); err != nil {
			b.Fatal(fmt.Errorf("remove %s: %w", dir, err))
		}
	}
	reportLoad(b)
}

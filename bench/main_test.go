package bench

import (
	"fmt"
	"os"
	"testing"

	"github.com/nookrun/nook/internal/nstest"
)

// TestMain starts the host runner BenchmarkRun needs (in the process that
// stays on the host; see hostrun_test.go), then re-runs the binary as root
// of a new user and mount namespace, as the unprivileged user who started
// it: the mounts of the other benchmarks need that.
func TestMain(m *testing.M) {
	if err := startHostRunner(); err != nil {
		// BenchmarkRun reports the missing runner; the rest can run.
		fmt.Fprintf(os.Stderr, "nook-bench: %v\n", err)
	}
	nstest.Main(m)
}

package bench

import (
	"testing"

	"github.com/nookrun/nook/internal/nstest"
)

// TestMain re-runs the binary as root of a new user and mount namespace, as
// the unprivileged user who started it: the mounts below need that.
func TestMain(m *testing.M) { nstest.Main(m) }

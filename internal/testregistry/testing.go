package testregistry

import (
	"context"
	"errors"
	"testing"

	"github.com/nookrun/nook/internal/nstest"
)

// New starts a registry for t in t.TempDir and stops it at t's cleanup.
// When docker-registry (or, for WithAuth, htpasswd) is not installed it
// skips t saying which package to install, or fails t when
// NOOK_TEST_STRICT=1; any other error fails t.
func New(t testing.TB, opts ...Option) *Registry {
	t.Helper()
	r, err := Start(context.Background(), t.TempDir(), opts...)
	if errors.Is(err, ErrNoRegistry) || errors.Is(err, ErrNoHtpasswd) {
		nstest.Skip(t, err.Error())
	}
	if err != nil {
		t.Fatalf("start registry: %v", err)
	}
	t.Cleanup(func() {
		if err := r.Stop(); err != nil {
			t.Errorf("stop registry: %v", err)
		}
	})
	return r
}

package usertest

import (
	"fmt"
	"sync"

	"github.com/nookrun/nook/image/imagetest"
	"github.com/nookrun/nook/internal/nstest"
)

// probes remembers what the conditions found, for one test run.
type probes struct {
	busyboxOnce sync.Once
	busyboxErr  error
}

// condition answers the scripts' own conditions:
//
//	busybox   the host has a static busybox to build test images from
//	          (with NOOK_TEST_STRICT=1 its absence fails the script
//	          instead of letting [!busybox] skip it)
func (p *probes) condition(cond string) (bool, error) {
	switch cond {
	case "busybox":
		p.busyboxOnce.Do(func() { _, p.busyboxErr = imagetest.NewBusybox() })
		if err := p.busyboxErr; err != nil {
			if nstest.Strict() {
				return false, fmt.Errorf("NOOK_TEST_STRICT=1 forbids skipping: %w", err)
			}
			return false, nil
		}
		return true, nil
	}
	return false, fmt.Errorf("unknown condition %q", cond)
}

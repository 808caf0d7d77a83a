package usertest

import (
	"fmt"
	"os"
	"os/exec"
	"sync"

	"github.com/nookrun/nook/image/imagetest"
	"github.com/nookrun/nook/internal/nstest"
	"github.com/nookrun/nook/userns"
)

// probes remembers what the conditions found, for one test run.
type probes struct {
	busyboxOnce sync.Once
	busyboxErr  error
	subidsOnce  sync.Once
	subidsErr   error
}

// condition answers the scripts' own conditions:
//
//	busybox   the host has a static busybox to build test images from
//	          (with NOOK_TEST_STRICT=1 its absence fails the script
//	          instead of letting [!busybox] skip it)
//	subids    the user has subordinate uid and gid ranges and
//	          newuidmap/newgidmap, so nook run maps more than one id
//	          (with NOOK_TEST_STRICT=1 their absence fails the script)
//	netdrivers  pasta, slirp4netns, nsenter and ip are installed, for
//	          the network drivers (strict: their absence fails the script)
//	registry  docker-registry and htpasswd are installed, for the
//	          registry command (strict: their absence fails the script)
//	cgroupdeleg  a cgroup v2 subtree with cpu, io, memory and pids is
//	          delegated to the user (make vmtest's VM; under
//	          NOOK_VMTEST=1 its absence fails the script)
//	nodeleg   nothing is delegated and no systemd user manager runs:
//	          nook run warns and runs without a cgroup
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
	case "subids":
		p.subidsOnce.Do(func() { p.subidsErr = probeSubIDs() })
		if err := p.subidsErr; err != nil {
			if nstest.Strict() {
				return false, fmt.Errorf("NOOK_TEST_STRICT=1 forbids skipping: %w", err)
			}
			return false, nil
		}
		return true, nil
	case "netdrivers":
		var missing []string
		for _, bin := range []string{"pasta", "slirp4netns", "nsenter", "ip"} {
			if _, err := exec.LookPath(bin); err != nil {
				missing = append(missing, bin)
			}
		}
		if len(missing) > 0 {
			if nstest.Strict() {
				return false, fmt.Errorf("NOOK_TEST_STRICT=1 forbids skipping: %v not installed (apt-get install passt slirp4netns util-linux iproute2)", missing)
			}
			return false, nil
		}
		return true, nil
	case "registry": // see registry_cmd_test.go
		return registryCondition()
	case "cgroupdeleg": // see cgroup_test.go
		return cgroupCondition()
	case "nodeleg":
		return noDelegationCondition()
	}
	return false, fmt.Errorf("unknown condition %q", cond)
}

// probeSubIDs says why nook run would map only the user's own id, or nil
// when it maps subordinate ids too.
func probeSubIDs() error {
	plan, err := userns.NewPlan(userns.Config{Mode: userns.Auto, UID: os.Getuid(), GID: os.Getgid()})
	if err != nil {
		return fmt.Errorf("plan a user namespace: %w", err)
	}
	if plan.Mode != userns.SubID {
		return fmt.Errorf("no subordinate ids: %s", plan.Notice)
	}
	return nil
}

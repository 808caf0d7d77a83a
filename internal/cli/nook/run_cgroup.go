package nook

import (
	"fmt"
	"os"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/nookrun/nook/cgroupdeleg"
	"github.com/nookrun/nook/run"
)

// cgroupSetup is how nook run limits its container: the delegated
// cgroup subtree it found (nil with --cgroups disabled) and the limits.
type cgroupSetup struct {
	deleg        *cgroupdeleg.Delegation
	limits       cgroupdeleg.Limits
	memoryRlimit bool
	mode, parent string
}

// resources are the setup's flags, for the container's settings.
func (s *cgroupSetup) resources() run.Resources {
	return run.Resources{Cgroups: s.mode, Parent: s.parent, Limits: s.limits, MemoryRlimit: s.memoryRlimit}
}

// resolveCgroups parses the resource flags and finds the delegated
// cgroup subtree, before anything of the container exists. When systemd
// can make a delegated scope only through systemd-run, it starts nook
// again under systemd-run (an exec: it does not return then).
func resolveCgroups(cmd *cobra.Command, r *resourceFlags) (*cgroupSetup, error) {
	l, err := r.limits()
	if err != nil {
		return nil, err
	}
	switch r.cgroups {
	case cgroupsEnabled, cgroupsDisabled:
	default:
		return nil, usageErr(cmd, fmt.Errorf("invalid --cgroups %q: use enabled or disabled", r.cgroups))
	}
	return cgroupsFor(cmd, run.Resources{Cgroups: r.cgroups, Parent: r.cgroupParent, Limits: l, MemoryRlimit: r.memoryRlimit})
}

// cgroupsFor finds the delegated subtree for a container's resources:
// nook run's flags, or a container's settings when it starts again.
func cgroupsFor(cmd *cobra.Command, res run.Resources) (*cgroupSetup, error) {
	l := res.Limits
	setup := &cgroupSetup{limits: l, memoryRlimit: res.MemoryRlimit, mode: res.Cgroups, parent: res.Parent}
	if res.Cgroups == cgroupsDisabled {
		if flags := l.Flags(); len(flags) > 0 {
			return nil, fmt.Errorf("--cgroups disabled: %s cannot be enforced without a cgroup; drop one or the other", strings.Join(flags, ", "))
		}
		if res.Parent != "" {
			return nil, fmt.Errorf("--cgroups disabled and --cgroup-parent contradict each other; drop one")
		}
		return setup, nil
	}
	opts := cgroupdeleg.Options{Parent: res.Parent, InScope: os.Getenv(cgroupdeleg.EnvInScope) == "1"}
	exe, err := os.Executable()
	if err != nil {
		exe = "/proc/self/exe"
	}
	d, rerun, err := cgroupdeleg.Resolve(cmd.Context(), opts, exe, os.Args[1:])
	if err != nil {
		return nil, err
	}
	if rerun != nil {
		env := append(os.Environ(), cgroupdeleg.EnvInScope+"=1")
		err := syscall.Exec(rerun[0], rerun, env)
		d.Reason = fmt.Sprintf("%s (systemd-run: %v)", d.Reason, err)
	}
	setup.deleg = d
	return setup, nil
}

// apply plans the container's cgroup (or the rlimits that stand in)
// into cfg and the container's record, and warns about limits that are
// not enforced.
func (s *cgroupSetup) apply(cmd *cobra.Command, ctr *run.Container, cfg *run.Config) error {
	if s.deleg == nil {
		return nil
	}
	plan, err := s.deleg.Plan(ctr.ID, s.limits, s.memoryRlimit)
	if err != nil {
		return err
	}
	if plan.Warning != "" {
		fmt.Fprintf(cmd.ErrOrStderr(), "nook: warning: %s\n", plan.Warning)
	}
	for _, rl := range plan.Rlimits {
		cfg.Process.Rlimits = append(cfg.Process.Rlimits, run.Rlimit{Resource: rl.Resource, Value: rl.Value})
	}
	if plan.Cgroup != nil {
		cfg.Cgroup = plan.Cgroup
		ctr.Cgroup = plan.Cgroup.Path()
	}
	return nil
}

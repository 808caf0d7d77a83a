package cgroupdeleg

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/sys/unix"
)

// Rlimit is a resource limit set on the workload with setrlimit(2),
// soft and hard alike, where no cgroup can enforce a limit.
type Rlimit struct {
	// Resource is the RLIMIT_* number.
	Resource int `json:"resource"`
	// Name is how ulimit(1) and Docker's --ulimit call it: "nproc", "as".
	Name  string `json:"name"`
	Value uint64 `json:"value"`
}

// Plan is how a container's limits are enforced: by a cgroup, or (with
// no delegation) partly by rlimits.
type Plan struct {
	// Cgroup is the container's cgroup, not made yet; nil without
	// delegation.
	Cgroup *Cgroup
	// Rlimits stand in for limits no cgroup enforces.
	Rlimits []Rlimit
	// Warning is one line for the user when asked limits are not
	// enforced; "" when all are.
	Warning string
}

// cgroupPrefix starts the name of every container cgroup nook makes; the
// container's id follows.
const cgroupPrefix = "nook-"

// Plan checks the limits against the delegation and plans the cgroup of
// container id. With a delegated subtree, a limit on a controller it
// does not have is an error (ErrController) that names the controller
// and how to delegate it. Without one the container runs without a
// cgroup: pids are limited by RLIMIT_NPROC instead, memory by RLIMIT_AS
// when memoryRlimit asks for it, and Warning names the rest.
func (d *Delegation) Plan(id string, l Limits, memoryRlimit bool) (*Plan, error) {
	if err := l.Validate(); err != nil {
		return nil, err
	}
	if !d.Usable() {
		return d.fallback(l, memoryRlimit), nil
	}
	if ctrls, flags := missing(l.requests(), d.Controllers); len(ctrls) > 0 {
		c := ctrls[0]
		return nil, fmt.Errorf("%w: %s needs the %s controller, which cgroup %s does not have (its cgroup.controllers: %s); %s",
			ErrController, strings.Join(flags[c], " and "), c, d.Base, orNone(d.Controllers), d.controllerFix(c))
	}
	if !d.writable {
		return nil, fmt.Errorf("%w: %s", ErrNotDelegated, d.Reason)
	}
	files, err := l.Files()
	if err != nil {
		return nil, err
	}
	var ctrls []string
	for _, c := range enabledControllers {
		if slices.Contains(d.Controllers, c) {
			ctrls = append(ctrls, c)
		}
	}
	base := d.BaseDir()
	return &Plan{Cgroup: &Cgroup{
		dir:         filepath.Join(base, cgroupPrefix+id),
		base:        base,
		controllers: ctrls,
		files:       files,
	}}, nil
}

// controllerFix says how to get controller c delegated.
func (d *Delegation) controllerFix(c string) string {
	switch {
	case d.Hybrid:
		return fmt.Sprintf("this machine's cgroup hierarchy is hybrid (%s is bound to cgroup v1): boot with systemd.unified_cgroup_hierarchy=1 for limits (ask an admin)", c)
	case d.Source == SourceSlurm:
		return fmt.Sprintf("ask the cluster's admins to enable %s for job cgroups (Slurm's cgroup.conf), or drop the flag: the job's own limits still apply", c)
	}
	return "ask an admin to delegate it: a drop-in /etc/systemd/system/user@.service.d/delegate.conf with [Service] Delegate=cpu cpuset io memory pids, then systemctl daemon-reload and log in again"
}

func orNone(ss []string) string {
	if len(ss) == 0 {
		return "none"
	}
	return strings.Join(ss, " ")
}

// fallback is the plan without a cgroup.
func (d *Delegation) fallback(l Limits, memoryRlimit bool) *Plan {
	p := &Plan{}
	var ignored, stand []string
	for _, r := range l.requests() {
		switch {
		case r.flag == "--pids-limit":
			p.Rlimits = append(p.Rlimits, Rlimit{Resource: unix.RLIMIT_NPROC, Name: "nproc", Value: uint64(l.PidsLimit)})
			stand = append(stand, "--pids-limit as RLIMIT_NPROC")
		case r.flag == "--memory" && memoryRlimit:
			p.Rlimits = append(p.Rlimits, Rlimit{Resource: unix.RLIMIT_AS, Name: "as", Value: uint64(l.Memory)})
			stand = append(stand, "--memory as RLIMIT_AS (address space)")
		default:
			ignored = append(ignored, r.flag)
		}
	}
	if len(ignored)+len(stand) == 0 {
		return p
	}
	msg := "no cgroup is delegated to nook here ('nook info' says why)"
	if len(ignored) > 0 {
		msg = strings.Join(ignored, ", ") + " not enforced: " + msg
	}
	if len(stand) > 0 {
		msg += "; applying " + strings.Join(stand, " and ") + " instead"
	}
	if slices.Contains(ignored, "--memory") {
		msg += " (--memory-rlimit applies --memory as RLIMIT_AS)"
	}
	p.Warning = msg
	return p
}

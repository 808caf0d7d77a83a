package run

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"

	"github.com/nookrun/nook/userns"
)

// nsenterEntry is how nsenter takes a nook exec into the workload's
// namespaces.
type nsenterEntry struct {
	// target is the workload's process, whose namespaces are entered.
	target int
	// outer, for keep-id, is the container's init, whose user namespace
	// holds the workload's nested one (and owns every other namespace).
	outer int
	// innerRoot: keep-id's nested namespace maps a root (the user has
	// subordinate ids), which the exec's RoleExec becomes there.
	innerRoot bool
	net       bool // a network namespace of its own (not --network host)
	cgroup    bool // a cgroup namespace, entered by nsenter's --cgroup
}

// args is nsenter's command line up to the program it executes.
//
// A process enters a namespace only if it is privileged over the user
// namespace that owns it. One nsenter does for the container's own user
// namespace, which owns all the others: it enters that first, and is
// root there. keep-id's workload runs in a user namespace nested below,
// where the host user is no root, so from there the namespaces its
// parent owns cannot be entered. So a first nsenter enters only the
// container's user namespace, still on the host's root, and executes a
// second one, root there and so privileged over every namespace of the
// container and the nested one: it enters the others and the nested
// user namespace last (nsenter's privileged order), where it becomes
// root (if one is mapped) for RoleExec to set up the process's user.
func (e nsenterEntry) args(nsenter string) []string {
	enter := []string{"--target", strconv.Itoa(e.target), "--user", "--mount", "--pid", "--uts", "--ipc"}
	if e.net {
		enter = append(enter, "--net")
	}
	if e.cgroup {
		enter = append(enter, "--cgroup")
	}
	if e.outer == 0 {
		args := append([]string{"nsenter"}, enter...)
		return append(args, "--preserve-credentials", "--")
	}
	args := []string{"nsenter", "--target", strconv.Itoa(e.outer), "--user", "--preserve-credentials", "--", nsenter}
	args = append(args, enter...)
	if !e.innerRoot {
		args = append(args, "--preserve-credentials")
	}
	return append(args, "--")
}

// hasRoot tells whether maps map id 0.
func hasRoot(maps []userns.Mapping) bool {
	for _, m := range maps {
		if m.ContainerID == 0 && m.Size > 0 {
			return true
		}
	}
	return false
}

// nsenterHasCgroup tells whether Nsenter has --cgroup, as util-linux's
// has since 2.27 and busybox's applet has not; asked once.
func (s *Supervisor) nsenterHasCgroup() bool {
	s.nsenterOnce.Do(func() {
		out, _ := exec.Command(s.Nsenter, "--help").CombinedOutput()
		s.nsenterCgroup = bytes.Contains(out, []byte("--cgroup"))
	})
	return s.nsenterCgroup
}

// execTargets are the processes whose namespaces exec enters (see
// nsenterEntry): target, the process that really is the workload, and
// for keep-id outer, the container's init above it. target is the
// container's first process, or below it the child cloned by nsenter and
// RoleJoin for container:NAME, and for keep-id the workload in its nested
// user namespace under init.
func execTargets(pid int, set *Settings, c *Container) (target, outer int) {
	if set.Network != "" && strings.HasPrefix(set.Network, "container:") {
		// nsenter executed RoleJoin in place, which cloned the child.
		if kid := firstChild(pid); kid > 0 {
			pid = kid
		}
	}
	if c.UserNS != nil && c.UserNS.Mode == userns.KeepID {
		if kid := firstChild(pid); kid > 0 {
			return kid, pid
		}
	}
	return pid, 0
}

// firstChild is pid's oldest child (0 if none).
func firstChild(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	n, _ := strconv.Atoi(f[0])
	return n
}

// Package cgroupdeleg finds the cgroup v2 subtree delegated to the user
// and gives each container a cgroup in it: created before the workload
// starts (the child is cloned straight into it), limited by Docker's
// resource flags, read for `nook stats`, emptied with cgroup.kill and
// removed when the container ends, or by the next nook command when nook
// itself was killed.
//
// Where the subtree comes from (Find):
//
//   - --cgroup-parent names it (Options.Parent);
//   - nook's own cgroup (/proc/self/cgroup) when the user may write its
//     cgroup.procs and cgroup.subtree_control, or the highest such
//     ancestor below the first cgroup the user may not write (a plain
//     delegation such as Delegate=yes on a service, or a batch system's
//     job cgroup). Above a systemd unit it never goes: a unit is used only
//     when systemd marked it delegated (the user.delegate xattr) or nook
//     had systemd make it;
//   - otherwise, when a systemd user manager runs, a transient scope with
//     Delegate=yes that systemd makes for nook over D-Bus (systemd.go),
//     or `systemd-run --user --scope -p Delegate=yes` around a second
//     start of nook when D-Bus cannot be reached (SystemdRunArgv);
//   - Slurm's job/step cgroups are recognised by their path
//     (slurm.go) so that nook info and the errors can name the job.
//
// The kernel's no-internal-processes rule: a cgroup with processes of its
// own cannot enable controllers for its children. When the delegated
// cgroup holds processes (nook itself, in a scope made for it), they are
// moved into a leaf child, "leaf", before controllers are enabled.
//
// Nothing here assumes systemd is present; nothing is written outside the
// delegated subtree; a limit on a controller that is not delegated is an
// error (ErrController) naming the controller and the systemd drop-in
// that delegates it. Without any delegation, containers run without a
// cgroup: Fallback names the limits that are then not enforced and the
// rlimits that stand in for some of them.
package cgroupdeleg

// Package userns decides how a container's user namespace maps ids, writes
// those maps, and holds the seccomp filter of the single-id mode.
//
// The monitor (host namespaces, a multi-threaded Go process) calls NewPlan
// and then Plan.Apply on the child it cloned with CLONE_NEWUSER. The
// container's init calls Plan.ApplyInner for keep-id, and the container's
// last process calls InstallSingleIDFilter right before it execs the
// workload. Nothing here mounts or spawns containers.
//
// # Modes
//
// SubID (what Auto picks when the user has subordinate ranges in
// /etc/subuid and /etc/subgid, or from getsubids on LDAP/SSSD sites, and
// newuidmap/newgidmap are installed): container 0 is the user, container
// 1..N are the ranges in order, written by the setuid helpers, as podman
// and rootlesskit do. Images whose files have many owners work.
//
// Single (what Auto falls back to, with a Notice naming why and the fix):
// container 0 is the user and no other id exists. The maps are written
// directly (an unprivileged process may map its own id once it denies
// setgroups), so it needs no helper and no admin. Every file shows as root.
//
// KeepID: the workload runs as the user's own uid and gid, so files it
// writes to a bind-mounted $HOME stay the user's, as on an HPC cluster. The
// outer maps are those of SubID (or only the user when there are no
// ranges); the container's init, root with CAP_SETUID there, makes a second
// user namespace whose inner maps put the user's uid on outer 0 and the
// other outer ids around it, as podman's keep-id does.
//
// # Why the single-id filter exists
//
// With one id, chown to any other id fails with EINVAL (the id does not
// exist in the namespace), and so do setuid, setgid and setgroups. Package
// managers do exactly these things (dpkg chowns files to root:root and to
// system users, apt drops to the _apt user, rpm sets owners of every file),
// so apt-get install and dnf install would fail. The filter makes those
// calls return 0 without doing anything, as Charliecloud's and enroot's
// filters do. Nothing is lost: with one id no other owner could be stored
// anyway. The filter is classic BPF matching the syscall numbers of each
// ABI the process could use (x86_64 with x32, i386 on amd64; aarch64 and
// 32-bit ARM on arm64) and allows everything else.
package userns

// Package ctrtop lists the processes of a running container, the table
// behind `nook top CONTAINER [ps OPTIONS]`, as `docker top` and `podman top`
// print it.
//
// Which processes belong to a container: nook starts every container's
// first process in a new PID namespace (run/monitor.go), so the container
// is that namespace. Pids keeps each process of /proc whose ns/pid is the
// same namespace as the first process's (compared by the nsfs device and
// inode from stat, never by the link's text), and also the processes of
// PID namespaces nested below it (found by walking up with the
// NS_GET_PARENT ioctl): a container that makes PID namespaces of its own
// (unshare -p, a container inside it) still shows everything it runs, as
// Docker's cgroup-based listing does. A process that exits during the scan is simply
// left out (ENOENT, ESRCH), and every row of the table is read through a
// directory fd of /proc/PID opened before the namespace check, so a pid
// reused during the scan cannot slip an unrelated process into the table.
// A pid in nook's own PID namespace is refused (ErrSharedPIDNamespace)
// rather than listing the whole host: nook always gives a container its
// own. Processes the caller may not inspect (EACCES on ns/pid) are not the
// container's: the user who owns the container's user namespace has
// ptrace-read access to every process in it, whatever its uid there.
//
// Without ps options, Table computes Docker's default columns (those of
// `ps -ef`: UID PID PPID C STIME TTY TIME CMD) from /proc itself, so that
// nook top works where procps is not installed and costs no extra process:
//
//	UID    the effective uid as the host sees it, shown as the host's user
//	       name (os/user, so /etc/passwd in nook's cgo-less build), or the
//	       number when the host has no such user (a subordinate uid). This is
//	       what docker top prints, since it runs the host's ps; unlike ps, a
//	       long name is not cut to 7 characters and a "+", because the table
//	       is aligned with tabwriter, not fixed-width columns.
//	PID    host pids, as Docker shows them (the pids a host user can kill).
//	PPID   the host pid of the parent; the first process's parent is the
//	       container's monitor.
//	C      integer CPU percent over the process's life, as ps computes it:
//	       (utime+stime) in whole percent-seconds divided by elapsed seconds,
//	       at most 99.
//	STIME  start time: HH:MM today, MonDD (ps's "%b%d", e.g. Jan02) earlier
//	       this year, the year before that; local time.
//	TTY    the controlling terminal (pts/N, ttyN, ttySN, console) or "?",
//	       named from its device numbers: a container's pty belongs to its
//	       own devpts, which has no node in the host's /dev to look up.
//	TIME   cumulative CPU time, [DD-]HH:MM:SS.
//	CMD    the arguments joined by spaces, as ps shows them in a UTF-8
//	       locale: a newline as a space, other control characters and
//	       invalid UTF-8 as "?"; "[comm]" when the process has none (kernel
//	       threads), "[comm] <defunct>" for a zombie.
//
// With ps options, Table runs the host's ps with them (and -q with the
// container's pids, retried without it when ps refuses the pair), keeps
// the rows whose PID column is one of the container's pids, as docker top
// does, and fails with ErrNoPIDColumn when ps printed no PID column. Print
// writes either table aligned the way docker top prints it.
package ctrtop

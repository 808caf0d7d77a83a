// Package smoke is make vmtest's own test: that the VM gives a container
// what nook's cgroup support relies on, before that support exists. As the
// unprivileged user, nook run --rm starts a busybox container with the
// user's subordinate ids mapped, in a cgroup v2 subtree the user owns, and
// the user can put a memory limit on it there.
//
// Its test file carries the vmtest build constraint: it needs a delegated
// cgroup v2 hierarchy (which the development machines lack) and bin/nook on
// PATH, and runs in the VM, or by hand on a host that has both:
//
//	go test -tags vmtest ./vmtest/smoke
package smoke

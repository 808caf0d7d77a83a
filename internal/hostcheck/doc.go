// Package hostcheck holds the probes behind `nook info`: what nook needs
// from the machine it runs on, whether each thing is there, and the
// one-line fix when it is not. It answers "why doesn't nook work here?"
// for a user on a shared server or cluster who cannot look at the kernel
// configuration, so every probe tries the real thing where it can (clones
// a user namespace, opens /dev/fuse) instead of guessing from versions,
// and reads only what an unprivileged user may read. Nothing is changed:
// the cgroup delegation check uses access(2), not a write.
//
// Run returns a Report: sections of checks, each a key, a value and a
// status. A "problem" stops nook from running containers; a "warning" is a
// feature that will not work (subordinate ids, resource limits, a network
// helper); "ok" and "info" need nothing.
package hostcheck

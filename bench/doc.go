// Package bench holds nook's benchmarks, run by hand with `make bench`:
// the union filesystem (nook-overlayfs over directory lowers and over
// indexed layer tars) side by side with fuse-overlayfs and kernel overlayfs,
// and layer indexing side by side with tar -x. Everything runs as root of a
// user namespace made by an unprivileged user (internal/nstest).
//
// cmd/benchtable turns the output into docs/BENCHMARKS.md. The package has
// no tests, only benchmarks: speed is never measured in a timed test.
package bench

// Package bench holds nook's benchmarks, run by hand with `make bench`:
// the union filesystem (nook-overlayfs over directory lowers and over
// indexed layer tars) side by side with fuse-overlayfs and kernel overlayfs,
// layer indexing side by side with tar -x, `nook run`'s start-up side by
// side with podman run, bubblewrap and unshare, `nook pull` side by side
// with podman pull, and a container's network (TCP throughput both ways
// with iperf3, and published-port connection latency) with pasta and
// slirp4netns, nook side by side with podman on the same driver, and 100
// detached containers' start, stop, removal and memory side by side with
// podman (BenchmarkLifecycle). The union
// and layer benchmarks run as root of a user namespace made by an
// unprivileged user (internal/nstest); the start-up, pull and network
// benchmarks start their peers from the host's namespaces, through a
// runner TestMain leaves outside.
//
// cmd/benchtable turns the output into docs/BENCHMARKS.md. The package has
// no tests, only benchmarks: speed is never measured in a timed test.
package bench

// Package testregistry runs Debian's docker-registry (the CNCF
// distribution registry, /usr/bin/docker-registry) on a loopback port for
// end-to-end tests and benchmarks, as the unprivileged user running them,
// and pushes test images into it with go-containerregistry.
//
// The registry listens on 127.0.0.1 on a port picked by binding port 0 and
// closing it (docker-registry cannot report a port it chose itself); when
// another process takes the port in between, the registry exits with
// "address already in use" and Start tries another. Start returns once
// GET /v2/ answers as a registry does (200, or 401 with htpasswd auth): a
// readiness check, not a sleep. Stop ends the process by its pid.
//
// A loopback registry speaks plain HTTP, as go-containerregistry, Docker
// and nook expect of 127.0.0.1 without being told. With WithAuth the
// registry requires basic auth from an htpasswd file (bcrypt entries made
// by apache2-utils' htpasswd).
//
// Layers of any size are generated, not stored: WriteLayer streams a tar of
// pseudo-random files (seeded, so the same spec gives the same digest)
// through gzip into a file, hashing both forms on the way, and the layer
// reads from that file. Large incompressible layers make a pull take long
// enough to interrupt and to time.
//
// New is the form for tests: the registry lives in t.TempDir and stops at
// t's cleanup, and a missing binary skips t (fails it when
// NOOK_TEST_STRICT=1) with the package to install.
package testregistry

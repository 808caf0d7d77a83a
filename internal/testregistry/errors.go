package testregistry

import "errors"

var (
	// ErrNoRegistry means the docker-registry binary is not installed
	// (Debian's package docker-registry provides it).
	ErrNoRegistry = errors.New("docker-registry is not installed (apt-get install docker-registry)")

	// ErrNoHtpasswd means WithAuth needs apache2-utils' htpasswd, to
	// write the bcrypt entry docker-registry checks passwords against.
	ErrNoHtpasswd = errors.New("htpasswd is not installed (apt-get install apache2-utils)")

	// ErrNotReady means the registry did not answer GET /v2/ as a
	// registry within the start timeout, or exited before it did.
	ErrNotReady = errors.New("registry did not become ready")
)

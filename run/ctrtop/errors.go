package ctrtop

import "errors"

var (
	// ErrNoProcess: the container's first process is gone (the container
	// stopped, or the pid is stale).
	ErrNoProcess = errors.New("the container's first process is not running")

	// ErrSharedPIDNamespace: the given process is in nook's own PID
	// namespace, so it is not the first process of a container and every
	// process of the host would be listed.
	ErrSharedPIDNamespace = errors.New("the process shares nook's PID namespace, so it is not a container's first process")

	// ErrNoPIDColumn: ps, run with the user's options, printed no PID
	// column to pick the container's rows by.
	ErrNoPIDColumn = errors.New("ps options must include a PID column, e.g. -o pid,comm")

	// ErrPIDAlias: the ps options name some other column PID (-o user=PID),
	// which would pick rows by the wrong values.
	ErrPIDAlias = errors.New("ps options may call only the pid column PID: use -o pid")
)

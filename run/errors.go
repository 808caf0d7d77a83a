package run

import "errors"

// StartError is a container that did not start; Code is the exit status
// nook gives for it (125, or 126/127 when the workload could not be
// executed).
type StartError struct {
	Code int
	Err  error
}

func (e *StartError) Error() string { return e.Err.Error() }
func (e *StartError) Unwrap() error { return e.Err }

// ErrNotRunning is a container that must be running for what was asked
// (exec, attach, kill).
var ErrNotRunning = errors.New("container is not running")

package run

// StartError is a container that did not start; Code is the exit status
// nook gives for it (125, or 126/127 when the workload could not be
// executed).
type StartError struct {
	Code int
	Err  error
}

func (e *StartError) Error() string { return e.Err.Error() }
func (e *StartError) Unwrap() error { return e.Err }

package runtimedir

import "errors"

// ErrUnsafe means a directory that must be private to the user is not: a
// symlink, not a directory, owned by someone else, or open to others. The
// error wrapping it names the path, what is wrong and the fix.
var ErrUnsafe = errors.New("directory is not private")

// unsafeError is the one-line error for a directory that is not private.
type unsafeError struct {
	path    string
	problem string
	fix     string
}

func (e *unsafeError) Error() string {
	return e.path + " " + e.problem + "; " + e.fix
}

func (e *unsafeError) Unwrap() error { return ErrUnsafe }

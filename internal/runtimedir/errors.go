package runtimedir

import "errors"

// ErrUnsafe means a directory that must be private to the user is not: a
// symlink, not a directory, owned by someone else, or open to others.
// Every such error is an *UnsafeError.
var ErrUnsafe = errors.New("directory is not private")

// UnsafeError is the one-line error for a directory that is not private:
// "PATH PROBLEM; FIX".
type UnsafeError struct {
	// Path is the directory; Problem what is wrong with it ("is a
	// symlink (to /x), not a directory: ..."); Fix what to do about it.
	Path, Problem, Fix string
}

func (e *UnsafeError) Error() string {
	return e.Path + " " + e.Problem + "; " + e.Fix
}

// Unwrap makes errors.Is(err, ErrUnsafe) true.
func (e *UnsafeError) Unwrap() error { return ErrUnsafe }

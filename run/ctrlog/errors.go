package ctrlog

import "errors"

var (
	// ErrClosed is a write to a stream of a Writer that was closed.
	ErrClosed = errors.New("container log is closed")
	// ErrStream is a Stream name other than Stdout or Stderr.
	ErrStream = errors.New("unknown log stream")
	// ErrLogOpt is a --log-opt that ParseLogOpts or Open does not accept.
	ErrLogOpt = errors.New("bad log option")
	// ErrTime is a --since or --until value that ParseSince cannot read.
	ErrTime = errors.New("bad time")
)

package ctrlog

import (
	"fmt"
	"io"
)

// output gathers what Read prints for both streams in one buffer, in log
// order, and hands it to the two writers in runs. One buffer rather than
// one per writer keeps the order of stdout and stderr lines when both
// writers are the same terminal.
type output struct {
	w    [2]io.Writer // nil discards the stream
	buf  []byte
	runs []run
}

// run is buf up to end, after the previous run, for stream s.
type run struct {
	s   int
	end int
}

// flushAt is the buffer size at which Read hands output over before the
// end of a pass.
const flushAt = 64 << 10

func (o *output) add(s int, b ...[]byte) {
	if o.w[s] == nil {
		return
	}
	for _, p := range b {
		o.buf = append(o.buf, p...)
	}
	if n := len(o.runs); n > 0 && o.runs[n-1].s == s {
		o.runs[n-1].end = len(o.buf)
	} else {
		o.runs = append(o.runs, run{s: s, end: len(o.buf)})
	}
}

func (o *output) flush() error {
	start := 0
	for _, r := range o.runs {
		if _, err := o.w[r.s].Write(o.buf[start:r.end]); err != nil {
			o.buf, o.runs = o.buf[:0], o.runs[:0]
			return fmt.Errorf("print container log: %w", err)
		}
		start = r.end
	}
	o.buf, o.runs = o.buf[:0], o.runs[:0]
	return nil
}

package run

import (
	"fmt"
	"io"
	"os"
	"sync"

	"golang.org/x/term"
)

// pipedStdio keeps the user's terminal away from a container run without
// -t: a terminal among stdin, stdout and stderr is replaced by a pipe the
// monitor relays, as Docker's client does. Handed over as it is, the
// terminal would make programs inside believe they are interactive, and
// a container run without -i could still read what the user types through
// its stdout (a shell's terminal descriptors are open read-write). Files
// and pipes are handed over as they are: nothing to hide, nothing to copy.
type pipedStdio struct {
	// childEnds are the pipe ends the child inherits; the monitor closes
	// its copies once the child has started.
	childEnds []*os.File
	// out counts the output relays still copying.
	out sync.WaitGroup
}

// pipeTerminals replaces the terminals among cfg's standard streams by
// relayed pipes.
func pipeTerminals(cfg *Config) (*pipedStdio, error) {
	p := &pipedStdio{}
	if cfg.Process.Tty {
		return p, nil // the pty relay owns the terminal
	}
	if isTerminal(cfg.Stdin) {
		r, w, err := os.Pipe()
		if err != nil {
			return nil, fmt.Errorf("make the container's stdin pipe: %w", err)
		}
		go func(in *os.File) {
			io.Copy(w, in)
			w.Close()
		}(cfg.Stdin)
		cfg.Stdin = r
		p.childEnds = append(p.childEnds, r)
	}
	for _, f := range []**os.File{&cfg.Stdout, &cfg.Stderr} {
		if !isTerminal(*f) {
			continue
		}
		r, w, err := os.Pipe()
		if err != nil {
			p.closeChildEnds()
			return nil, fmt.Errorf("make the container's output pipe: %w", err)
		}
		p.out.Add(1)
		go func(dst *os.File) {
			defer p.out.Done()
			io.Copy(dst, r)
			r.Close()
		}(*f)
		*f = w
		p.childEnds = append(p.childEnds, w)
	}
	return p, nil
}

func isTerminal(f *os.File) bool { return f != nil && term.IsTerminal(int(f.Fd())) }

// closeChildEnds drops the monitor's copies of the child's ends, so that
// the output relays see end-of-file when the container's last writer
// exits.
func (p *pipedStdio) closeChildEnds() {
	for _, f := range p.childEnds {
		f.Close()
	}
	p.childEnds = nil
}

// wait returns once the container's output has been copied.
func (p *pipedStdio) wait() { p.out.Wait() }

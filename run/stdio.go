package run

import (
	"fmt"
	"io"
	"os"
	"sync"

	"golang.org/x/term"
)

// TerminalPipes keep the user's terminal away from a process run without
// -t (a container, or nook exec's process): a terminal among stdin, stdout
// and stderr is replaced by a pipe relayed here, as Docker's client does.
// Handed over as it is, the terminal would make programs inside believe
// they are interactive, and a process run without -i could still read what
// the user types through its stdout (a shell's terminal descriptors are
// open read-write). Files and pipes are handed over as they are: nothing
// to hide, nothing to copy.
type TerminalPipes struct {
	// childEnds are the pipe ends the process gets; they are closed here
	// once it has them.
	childEnds []*os.File
	// out counts the output relays still copying.
	out sync.WaitGroup
}

// pipeTerminals replaces the terminals among cfg's standard streams by
// relayed pipes, unless the container has a pty (whose relay owns the
// terminal).
func pipeTerminals(cfg *Config) (*TerminalPipes, error) {
	if cfg.Process.Tty {
		return &TerminalPipes{}, nil
	}
	return PipeTerminals(&cfg.Stdin, &cfg.Stdout, &cfg.Stderr)
}

// PipeTerminals replaces each terminal among the three by a relayed pipe.
func PipeTerminals(stdin, stdout, stderr **os.File) (*TerminalPipes, error) {
	p := &TerminalPipes{}
	if isTerminal(*stdin) {
		r, w, err := os.Pipe()
		if err != nil {
			return nil, fmt.Errorf("make the stdin pipe: %w", err)
		}
		go func(in *os.File) {
			io.Copy(w, in)
			w.Close()
		}(*stdin)
		*stdin = r
		p.childEnds = append(p.childEnds, r)
	}
	for _, f := range []**os.File{stdout, stderr} {
		if !isTerminal(*f) {
			continue
		}
		r, w, err := os.Pipe()
		if err != nil {
			p.CloseChildEnds()
			return nil, fmt.Errorf("make the output pipe: %w", err)
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

// CloseChildEnds drops this process's copies of the child's ends, so that
// the output relays see end-of-file when the child's last writer exits.
func (p *TerminalPipes) CloseChildEnds() {
	if p == nil {
		return
	}
	for _, f := range p.childEnds {
		f.Close()
	}
	p.childEnds = nil
}

// Wait returns once the child's output has been copied.
func (p *TerminalPipes) Wait() {
	if p != nil {
		p.out.Wait()
	}
}

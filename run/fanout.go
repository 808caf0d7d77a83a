package run

import (
	"fmt"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// fanout is a detached container's stdio: the workload's output goes to
// the log and to every attached client; attached clients' input goes to
// the workload's stdin (with -i).
type fanout struct {
	log Log
	mu  sync.Mutex
	// clients get the output; a client that falls behind by a whole
	// queue is dropped rather than allowed to stall the container.
	clients map[*attachClient]struct{}
	// stdin is the monitor's end of the running workload's stdin pipe.
	stdin *os.File
	// pty is the running workload's pty master, for resizes.
	pty *os.File
}

func newFanout(l Log) *fanout {
	return &fanout{log: l, clients: map[*attachClient]struct{}{}}
}

// runOutput is one start's pipes.
type runOutput struct {
	f *fanout
	// stdin, stdout, stderr are the workload's ends.
	stdin, stdout, stderr *os.File
	copying               sync.WaitGroup
}

// start makes the pipes of one start of the workload.
func (f *fanout) start(interactive bool) (*runOutput, error) {
	o := &runOutput{f: f}
	for _, stream := range []string{"stdout", "stderr"} {
		r, w, err := os.Pipe()
		if err != nil {
			o.close()
			return nil, fmt.Errorf("make the container's %s pipe: %w", stream, err)
		}
		if stream == "stdout" {
			o.stdout = w
		} else {
			o.stderr = w
		}
		o.copying.Add(1)
		go func(stream string, r *os.File) {
			defer o.copying.Done()
			defer r.Close()
			buf := make([]byte, 32<<10)
			for {
				n, err := r.Read(buf)
				if n > 0 {
					f.write(stream, buf[:n])
				}
				if err != nil {
					return
				}
			}
		}(stream, r)
	}
	if interactive {
		r, w, err := os.Pipe()
		if err != nil {
			o.close()
			return nil, fmt.Errorf("make the container's stdin pipe: %w", err)
		}
		o.stdin = r
		f.mu.Lock()
		f.stdin = w
		f.mu.Unlock()
	}
	return o, nil
}

// close drops the monitor's copies of the workload's ends once it has
// ended, and returns when its last output is in the log.
func (o *runOutput) close() {
	for _, p := range []*os.File{o.stdin, o.stdout, o.stderr} {
		if p != nil {
			p.Close()
		}
	}
	o.copying.Wait()
	o.f.mu.Lock()
	if o.f.stdin != nil {
		o.f.stdin.Close()
		o.f.stdin = nil
	}
	o.f.pty = nil
	o.f.mu.Unlock()
}

// write copies one chunk of output to the log and the clients.
func (f *fanout) write(stream string, b []byte) {
	f.log.Stream(stream).Write(b)
	f.mu.Lock()
	defer f.mu.Unlock()
	for c := range f.clients {
		select {
		case c.out <- ctlReply{Type: ctlData, Stream: stream, Data: append([]byte(nil), b...)}:
		default:
			delete(f.clients, c)
			close(c.out)
		}
	}
}

// input writes an attached client's keystrokes to the workload.
func (f *fanout) input(b []byte) {
	f.mu.Lock()
	w := f.stdin
	f.mu.Unlock()
	if w != nil {
		w.Write(b)
	}
}

func (f *fanout) resize(rows, cols uint16) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.pty != nil && rows > 0 && cols > 0 {
		unix.IoctlSetWinsize(int(f.pty.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: rows, Col: cols})
	}
}

// ended tells every client how the workload ended, lets them go and
// waits (a little, for a stuck one) until that was sent: the monitor may
// exit right after.
func (f *fanout) ended(code int) {
	f.mu.Lock()
	var sent []*attachClient
	for c := range f.clients {
		select {
		case c.out <- ctlReply{Type: ctlExit, Code: code}:
		default:
		}
		delete(f.clients, c)
		close(c.out)
		sent = append(sent, c)
	}
	f.mu.Unlock()
	deadline := time.After(2 * time.Second)
	for _, c := range sent {
		select {
		case <-c.done:
		case <-deadline:
			return
		}
	}
}

// attachClient is one nook attach.
type attachClient struct {
	out chan ctlReply
	// done is closed when the client's last packet has been sent.
	done chan struct{}
}

// setPTY is Config.OnPTY: the running workload's pty master, for resizes.
func (f *fanout) setPTY(master *os.File) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pty = master
}

package run

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Supervisor is a container's monitor over its whole life: it starts the
// workload (run.Run), records every change of state, keeps the restart
// policy, serves the container's control socket (nook stop, kill, exec,
// attach) and, detached, writes the workload's output to the container's
// log. nook run runs one in the foreground; nook run -d and nook start run
// one in a monitor process of its own.
type Supervisor struct {
	Containers *Containers
	// Container is the container's record, its lock held.
	Container *Container
	Settings  *Settings
	// StateDir is the container's runtime directory.
	StateDir string
	// Prepare builds the Config of one start: the network and the cgroup
	// are decided again every time. Stdio and Started are the
	// supervisor's to set.
	Prepare func() (Config, error)
	// Log, for a detached container, receives the workload's output;
	// attached clients get a copy. nil in the foreground, where Stdin,
	// Stdout and Stderr are the user's.
	Log                   Log
	Stdin, Stdout, Stderr *os.File
	// Ready, if set, is called once: with nil when the workload of the
	// first start runs, or with why that start failed.
	Ready func(error)
	// Nsenter is nsenter's path and Exe the nook binary, for nook exec.
	Nsenter, Exe string
	// BeforeUnlock, if set, runs once the container has ended for good,
	// before the lock goes (it removes the runtime directory): whoever
	// waits on the lock finds nothing of this run left.
	BeforeUnlock func()
	// Attached, for a detached container, is a client attached from
	// before the first start (nook start -a); AttachStdin sends it input.
	Attached    *os.File
	AttachStdin bool

	nsenterOnce   sync.Once
	nsenterCgroup bool // nsenterHasCgroup's answer

	mu sync.Mutex
	// cur is the running workload's pidfd and pid (-1 between runs).
	cur     int
	curPID  int
	stopped bool
	// wake ends a wait before a restart (nook stop during the back-off).
	wake    chan struct{}
	fanout  *fanout
	readied bool
	execs   sync.WaitGroup
}

// Log is a container's log: a writer for each stream.
type Log interface {
	Stream(name string) io.Writer
	Close() error
}

// Run runs the container until it ends for good (its workload exited and
// the restart policy does not restart it), then records that and
// removes the container if it was run with --rm. A first start that
// fails removes the container (nook run leaves nothing of it) unless
// keep is set (nook start of an existing container).
func (s *Supervisor) Run(ctx context.Context, keep bool) (Exit, error) {
	s.cur, s.wake = -1, make(chan struct{})
	c := s.Container
	ctl, err := listenControl(s.StateDir, s)
	if err != nil {
		return s.failed(keep, err)
	}
	defer ctl.close()
	if s.Log != nil {
		s.fanout = newFanout(s.Log)
		defer s.Log.Close()
		if s.Attached != nil {
			go s.attachConn(s.Attached, s.AttachStdin)()
		}
	}
	// A SIGINT or SIGTERM to the monitor (Ctrl-C, a batch system's stop,
	// logout) reaches the workload through Run, and ends the container
	// for good: no restart policy brings it back.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, unix.SIGINT, unix.SIGTERM)
	defer signal.Stop(sigs)
	quit := make(chan struct{})
	defer close(quit)
	go func() {
		for {
			select {
			case <-sigs:
				s.markStopped()
			case <-quit:
				return
			}
		}
	}()
	backoff := 100 * time.Millisecond
	for first := true; ; first = false {
		exit, err := s.runOnce(ctx)
		if first && err != nil {
			return s.failed(keep, err)
		}
		now := time.Now().UTC()
		c.ExitCode, c.Finished, c.OOMKilled = exit.Code, now, exit.OOMKilled
		c.ChildPID = 0
		if err != nil {
			c.Error = err.Error()
		}
		s.mu.Lock()
		stopped := s.stopped
		s.mu.Unlock()
		if !s.Settings.Restart.Restarts(exit.Code, c.RestartCount, stopped) {
			return exit, s.end(err)
		}
		// Docker's back-off: doubling from 100 ms, reset after ten
		// seconds of running.
		if now.Sub(c.Started) >= 10*time.Second {
			backoff = 100 * time.Millisecond
		}
		c.State = StateRestarting
		c.Save()
		s.notifyEnded(exit.Code)
		select {
		case <-time.After(backoff):
		case <-s.wake:
		case <-ctx.Done():
		}
		backoff = min(2*backoff, time.Minute)
		s.mu.Lock()
		stopped = s.stopped
		s.mu.Unlock()
		if stopped || ctx.Err() != nil {
			c.State = StateExited
			return exit, s.end(nil)
		}
		c.RestartCount++
	}
}

// runOnce starts the workload once and waits for it.
func (s *Supervisor) runOnce(ctx context.Context) (Exit, error) {
	c := s.Container
	cfg, err := s.Prepare()
	if err != nil {
		return Exit{Code: exitNookError}, &StartError{Code: exitNookError, Err: err}
	}
	cfg.StateDir = s.StateDir
	var out *runOutput
	if s.fanout != nil {
		if out, err = s.fanout.start(s.Settings.Interactive); err != nil {
			return Exit{Code: exitNookError}, &StartError{Code: exitNookError, Err: err}
		}
		cfg.Stdin, cfg.Stdout, cfg.Stderr = out.stdin, out.stdout, out.stderr
		cfg.OnPTY = s.fanout.setPTY
	} else {
		cfg.Stdin, cfg.Stdout, cfg.Stderr = s.Stdin, s.Stdout, s.Stderr
	}
	c.State, c.Started, c.MonitorPID, c.Error = StateRunning, time.Now().UTC(), os.Getpid(), ""
	c.Detached = s.Log != nil
	if cfg.Cgroup != nil {
		c.Cgroup = cfg.Cgroup.Path()
	}
	if err := c.SaveRunning(); err != nil {
		if out != nil {
			out.close()
		}
		return Exit{Code: exitNookError}, &StartError{Code: exitNookError, Err: err}
	}
	started := cfg.Started
	cfg.Started = func(pid int) {
		s.setRunning(pid)
		c.ChildPID = pid
		c.SaveRunning()
		if started != nil {
			started(pid)
		}
		s.ready(nil)
	}
	exit, err := Run(ctx, cfg)
	s.setRunning(0)
	if out != nil {
		out.close()
	}
	return exit, err
}

// setRunning keeps a pidfd of the workload's first process, for signals
// that cannot hit a reused pid; 0 drops it.
func (s *Supervisor) setRunning(pid int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur >= 0 {
		unix.Close(s.cur)
		s.cur, s.curPID = -1, 0
	}
	if pid > 0 {
		if fd, err := unix.PidfdOpen(pid, 0); err == nil {
			s.cur, s.curPID = fd, pid
		}
	}
}

// markStopped records that the user stopped the container: the restart
// policy leaves it stopped, and a wait before a restart ends.
func (s *Supervisor) markStopped() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.markStoppedLocked()
}

func (s *Supervisor) markStoppedLocked() {
	if !s.stopped {
		s.stopped = true
		close(s.wake)
	}
}

// signal sends sig to the workload's first process; stop marks the
// container stopped by the user, which the restart policy respects.
func (s *Supervisor) signal(sig syscall.Signal, stop bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if stop {
		s.markStoppedLocked()
	}
	if s.cur < 0 {
		if stop {
			return nil
		}
		return fmt.Errorf("%w: %s", ErrNotRunning, s.Container.Name)
	}
	if err := unix.PidfdSendSignal(s.cur, sig, nil, 0); err != nil && !errors.Is(err, unix.ESRCH) {
		return fmt.Errorf("signal container %s: %w", s.Container.Name, err)
	}
	return nil
}

// stop sends the stop signal, then SIGKILL after timeout.
func (s *Supervisor) stop(timeout time.Duration) error {
	sig := syscall.Signal(s.Settings.StopSignal)
	if sig == 0 {
		sig = unix.SIGTERM
	}
	if err := s.signal(sig, true); err != nil {
		return err
	}
	s.mu.Lock()
	pidfd := -1
	if s.cur >= 0 {
		pidfd, _ = unix.Dup(s.cur)
	}
	s.mu.Unlock()
	if pidfd < 0 {
		return nil
	}
	go func() {
		defer unix.Close(pidfd)
		// The pidfd turns readable when the process has exited.
		fds := []unix.PollFd{{Fd: int32(pidfd), Events: unix.POLLIN}}
		deadline := time.Now().Add(timeout)
		for {
			left := time.Until(deadline)
			if left <= 0 {
				unix.PidfdSendSignal(pidfd, unix.SIGKILL, nil, 0)
				return
			}
			n, err := unix.Poll(fds, int(left.Milliseconds())+1)
			if err == nil && n > 0 {
				return
			}
		}
	}()
	return nil
}

func (s *Supervisor) ready(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.readied {
		return
	}
	s.readied = true
	if s.Ready != nil {
		s.Ready(err)
	}
}

// end records that the container ended for good and removes it if it
// was run with --rm.
func (s *Supervisor) end(runErr error) error {
	s.execs.Wait()
	s.beforeUnlock()
	c := s.Container
	c.State = StateExited
	if c.AutoRemove {
		if err := s.Containers.remove(c); err != nil && runErr == nil {
			runErr = err
		}
		s.notifyEnded(c.ExitCode)
		return runErr
	}
	if err := c.Save(); err != nil && runErr == nil {
		runErr = err
	}
	s.notifyEnded(c.ExitCode)
	c.Unlock()
	return runErr
}

// notifyEnded tells attached clients how the workload ended, once the
// record says so: an attach that returns finds the container exited.
func (s *Supervisor) notifyEnded(code int) {
	if s.fanout != nil {
		s.fanout.ended(code)
	}
}

// failed ends a container whose start failed: removed when it was being
// created, recorded with the error otherwise.
func (s *Supervisor) failed(keep bool, err error) (Exit, error) {
	s.ready(err)
	s.beforeUnlock()
	c := s.Container
	code := exitNookError
	var se *StartError
	if errors.As(err, &se) {
		code = se.Code
	}
	if !keep {
		s.Containers.remove(c)
		return Exit{Code: code}, err
	}
	c.State, c.ExitCode, c.Finished, c.Error, c.ChildPID = StateExited, code, time.Now().UTC(), err.Error(), 0
	c.Save()
	c.Unlock()
	return Exit{Code: code}, err
}

func (s *Supervisor) beforeUnlock() {
	if s.BeforeUnlock != nil {
		s.BeforeUnlock()
		s.BeforeUnlock = nil
	}
}

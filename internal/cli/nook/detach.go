package nook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/nookrun/nook/internal/runtimedir"
	"github.com/nookrun/nook/run"
	"github.com/nookrun/nook/run/ctrlog"
)

// roleMonitor is the hidden role of a detached container's monitor:
// nook run -d and nook start start one per container, in a session of
// its own, and return once it reports the workload running.
const roleMonitor = "__monitor"

// The monitor inherits the container's lock (so that no sweep takes the
// container for lost while the monitor starts) and a pipe to report on.
const (
	monitorLockFD   = 3
	monitorReadyFD  = 4
	monitorAttachFD = 5
)

// attachment is nook start -a's connection to the monitor it starts,
// attached before the workload runs.
type attachment struct {
	mine, theirs *os.File
	stdin        bool
}

// monitorReport is the monitor's one message on the ready pipe.
type monitorReport struct {
	Error string `json:"error,omitempty"`
	Code  int    `json:"code,omitempty"`
}

// startDetached starts a monitor for the created or stopped container ctr,
// whose lock this nook holds, and waits until its workload runs. keep
// says the container stays when the start fails (nook start); nook run's
// new container is removed then.
func startDetached(cmd *cobra.Command, cs *run.Containers, ctr *run.Container, storeRoot string, keep bool, attach *attachment) error {
	exe, err := selfPath()
	if err != nil {
		return err
	}
	r, w, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("start the container's monitor: %w", err)
	}
	defer r.Close()
	devnull, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		w.Close()
		return fmt.Errorf("start the container's monitor: %w", err)
	}
	defer devnull.Close()
	// The monitor's own complaints, after it has let this nook go.
	mlog, err := os.OpenFile(filepath.Join(ctr.Dir(), "monitor.log"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		w.Close()
		return fmt.Errorf("start the container's monitor: %w", err)
	}
	defer mlog.Close()
	args := []string{"nook", roleMonitor, storeRoot, ctr.ID}
	if keep {
		args = append(args, "keep")
	}
	files := []*os.File{ctr.LockFile(), w}
	if attach != nil {
		files = append(files, attach.theirs)
		args = append(args, "attach")
		if attach.stdin {
			args = append(args, "stdin")
		}
	}
	c := &exec.Cmd{
		Path:        exe,
		Args:        args,
		Stdin:       devnull,
		Stdout:      devnull,
		Stderr:      mlog,
		ExtraFiles:  files,
		SysProcAttr: &syscall.SysProcAttr{Setsid: true},
	}
	err = c.Start()
	w.Close()
	if attach != nil {
		attach.theirs.Close()
	}
	// The monitor holds the lock now: the same open file, inherited.
	ctr.Unlock()
	if err != nil {
		if !keep {
			cs.Remove(ctr, true)
		}
		return fmt.Errorf("start the container's monitor: %w", err)
	}
	// Reaped by init once this nook is gone; the monitor outlives it.
	defer c.Process.Release()
	b, _ := io.ReadAll(r)
	var rep monitorReport
	if len(b) == 0 {
		return &exitError{code: ExitError, err: fmt.Errorf("container %s: its monitor ended before the container started (see %s)", ctr.Name, mlog.Name())}
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		return fmt.Errorf("container %s: its monitor's report: %w", ctr.Name, err)
	}
	if rep.Error != "" {
		return &exitError{code: rep.Code, err: errors.New(rep.Error)}
	}
	return nil
}

// monitorMain is roleMonitor: args are the store's root, the container's
// id and, for nook start, "keep".
func monitorMain(args []string) int {
	ready := os.NewFile(monitorReadyFD, "ready")
	report := func(err error) {
		if ready == nil {
			return
		}
		var rep monitorReport
		if err != nil {
			rep.Error, rep.Code = oneLine(err), ExitError
			var se *run.StartError
			if errors.As(err, &se) {
				rep.Code = se.Code
			}
		}
		b, _ := json.Marshal(rep)
		ready.Write(b)
		ready.Close()
		ready = nil
	}
	if len(args) < 2 {
		report(fmt.Errorf("internal role %s: unexpected arguments %q", roleMonitor, args))
		return ExitError
	}
	opts := map[string]bool{}
	for _, a := range args[2:] {
		opts[a] = true
	}
	err := monitor(args[0], args[1], opts["keep"], opts["attach"], opts["stdin"], report)
	if err != nil {
		report(err)
		fmt.Fprintf(os.Stderr, "nook: monitor: %s\n", oneLine(err))
		return ExitError
	}
	return 0
}

// monitor runs the container id of the store at root until it ends for
// good.
func monitor(root, id string, keep, attached, attachStdin bool, report func(error)) error {
	rt, err := runtimedir.Dir(os.Getuid())
	if err != nil {
		return fmt.Errorf("find the runtime directory: %w", err)
	}
	cs, err := run.OpenContainers(root, rt)
	if err != nil {
		return err
	}
	ctr, err := cs.Adopt(id, os.NewFile(monitorLockFD, "lock"))
	if err != nil {
		return err
	}
	set, err := ctr.Settings()
	if err != nil {
		return err
	}
	log, err := ctrlog.Open(ctr.Dir(), ctrlog.Options{MaxSize: set.LogMaxSize, MaxFiles: set.LogMaxFiles})
	if err != nil {
		return err
	}
	// Removed by the supervisor before it lets go of the lock, never
	// after: by then a new monitor of the container may have made it.
	state, err := runtimedir.Sub(os.Getuid(), ctr.ID)
	if err != nil {
		log.Close()
		return fmt.Errorf("make the container's runtime directory: %w", err)
	}
	// The flags and the store of the nook that started us.
	cmd := &cobra.Command{}
	cmd.SetContext(context.Background())
	cmd.SetErr(os.Stderr)
	nsenter, exe := execTools()
	sup := &run.Supervisor{
		Containers: cs,
		Container:  ctr,
		Settings:   set,
		StateDir:   state,
		Log:        log,
		Ready: func(err error) {
			report(err)
			if err == nil {
				trimMonitor()
			}
		},
		Nsenter: nsenter,
		Exe:     exe,
		BeforeUnlock: func() {
			os.RemoveAll(state)
			runtimedir.Cleanup(filepath.Dir(state))
		},
	}
	if attached {
		sup.Attached, sup.AttachStdin = os.NewFile(monitorAttachFD, "attach"), attachStdin
	}
	sup.Prepare = func() (run.Config, error) {
		p, err := prepareAgain(cmd, cs, ctr, set)
		if err != nil {
			return run.Config{}, err
		}
		return configFor(cmd, ctr, set, p, state)
	}
	_, err = sup.Run(cmd.Context(), keep)
	return err
}

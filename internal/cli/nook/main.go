// Package nook is the nook command line: flags, help, exit codes and
// printing, wired to the library packages. cmd/nook only calls Main, so
// that the testscripts can run the same code as a command of the test
// binary.
package nook

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/nookrun/nook/network"
	"github.com/nookrun/nook/run"
)

// exitError ends nook with code, printing err if it is set.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// Exit statuses of nook itself, as Docker and Podman use them; a
// container's own status passes through unchanged.
const (
	// ExitOK is success.
	ExitOK = 0
	// ExitError is an error of nook's own: bad usage, a failed operation.
	ExitError = 125
)

// Main runs nook with the process's arguments and returns its exit status.
//
// A nook process re-executed as a container's child or init is told its
// role by os.Args[1], before any CLI parsing, so that no flag of the CLI can
// be mistaken for the role's own arguments (runc's pattern).
func Main() int {
	if len(os.Args) > 1 {
		switch role := os.Args[1]; role {
		case run.RoleChild:
			return run.ChildMain(os.Args[2:])
		case run.RoleJoin:
			return run.JoinMain(os.Args[2:])
		case run.RoleExec:
			return run.ExecMain(os.Args[2:])
		case roleMonitor:
			return monitorMain(os.Args[2:])
		case network.RolePortHelper:
			return network.PortHelperMain(os.Args[2:])
		}
	}
	return Run(os.Args[1:], os.Stdout, os.Stderr)
}

// Run runs the nook CLI with args (without the program name). Errors are
// printed as one line "nook: ..." and give ExitError.
func Run(args []string, stdout, stderr io.Writer) int {
	root := newRootCmd()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	// Ctrl-C or SIGTERM cancels what a command does through its context.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := root.ExecuteContext(ctx)
	var ee *exitError
	if errors.As(err, &ee) {
		// A container's own status, or a start failure with Docker's
		// status for it (126 not executable, 127 not found).
		if ee.err != nil {
			fmt.Fprintf(stderr, "nook: %s\n", oneLine(ee.err))
		}
		return ee.code
	}
	if err != nil {
		fmt.Fprintf(stderr, "nook: %s\n", oneLine(err))
		return ExitError
	}
	return ExitOK
}

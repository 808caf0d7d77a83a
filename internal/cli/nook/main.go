// Package nook is the nook command line: flags, help, exit codes and
// printing, wired to the library packages. cmd/nook only calls Main, so
// that the testscripts can run the same code as a command of the test
// binary.
package nook

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Exit statuses of nook itself, as Docker and Podman use them; a
// container's own status passes through unchanged (later issues).
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
// be mistaken for the role's own arguments (runc's pattern). The roles come
// with the container runtime in later issues; their names are reserved now.
func Main() int {
	if len(os.Args) > 1 {
		switch role := os.Args[1]; role {
		case "__child", "__init":
			fmt.Fprintf(os.Stderr, "nook: internal role %s is not built yet\n", role)
			return ExitError
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
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintf(stderr, "nook: %s\n", oneLine(err))
		return ExitError
	}
	return ExitOK
}

package usertest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
)

// exitsMain is the exits program, for scripts to check an exact exit
// status (testscript's exec only tells success from failure):
//
//	exec exits N PROG [ARG...]
//
// runs PROG with exits' standard input, output, error and environment, and
// succeeds when PROG exits with status N; otherwise it says what PROG did
// on standard error and fails.
func exitsMain() int {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: exits N PROG [ARG...]")
		return 2
	}
	want, err := strconv.Atoi(os.Args[1])
	if err != nil {
		fmt.Fprintf(os.Stderr, "exits: status %q is not a number\n", os.Args[1])
		return 2
	}
	cmd := exec.Command(os.Args[2], os.Args[3:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	err = cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee) && ee.Exited():
	case errors.As(err, &ee):
		fmt.Fprintf(os.Stderr, "exits: %s: %v, want exit status %d\n", strings.Join(os.Args[2:], " "), ee, want)
		return 1
	default:
		fmt.Fprintf(os.Stderr, "exits: %v\n", err)
		return 1
	}
	if got := cmd.ProcessState.ExitCode(); got != want {
		fmt.Fprintf(os.Stderr, "exits: %s: exit status %d, want %d\n", strings.Join(os.Args[2:], " "), got, want)
		return 1
	}
	return 0
}

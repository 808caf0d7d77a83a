package bench

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// run runs a command with its output discarded, and returns its standard
// error in the error when it fails.
func run(name string, args ...string) error {
	return runIn(nil, name, args...)
}

// runIn is run with an environment (nil: this process's).
func runIn(environ []string, name string, args ...string) error {
	var stderr bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Env = environ
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w: %s", strings.Join(cmd.Args, " "), err, tail(stderr.String()))
	}
	return nil
}

// runLogged runs a long command with its output appended to logPath, and
// puts the end of that log in the error when it fails.
func runLogged(logPath, name string, args ...string) error {
	log, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("open log: %w", err)
	}
	defer log.Close()
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Run(); err != nil {
		b, _ := os.ReadFile(logPath)
		return fmt.Errorf("%s: %w: %s", strings.Join(cmd.Args, " "), err, tail(string(b)))
	}
	return nil
}

// tail keeps the last lines of a command's output, enough to say why it
// failed without flooding the benchmark output.
func tail(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > 8 {
		lines = lines[len(lines)-8:]
	}
	return strings.Join(lines, "\n")
}

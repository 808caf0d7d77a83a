package nook

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/nookrun/nook/run"
)

func newExecCmd() *cobra.Command {
	var (
		interactive, tty, detach bool
		env, envFiles            []string
		workdir, user            string
	)
	c := &cobra.Command{
		Use:   "exec [OPTIONS] CONTAINER COMMAND [ARG...]",
		Short: "Execute a command in a running container",
		Long: `Execute a command in a running container: in all of its namespaces, its
root, its cgroup, with its environment, user and capabilities (nsenter
enters the namespaces; see docs/ARCHITECTURE.md).`,
		Example: `  nook exec web cat /etc/hostname
  nook exec -it web sh
  nook exec -u nobody -w /tmp -e DEBUG=1 web env`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if workdir != "" && !strings.HasPrefix(workdir, "/") {
				return fmt.Errorf("the working directory %q is invalid: it needs to be an absolute path", workdir)
			}
			extra, err := environment(nil, envFiles, env)
			if err != nil {
				return err
			}
			cs, ctr, err := openContainer(cmd, args[0])
			if err != nil {
				return err
			}
			req := run.ExecRequest{Args: args[1:], Env: extra, Cwd: workdir, User: user, Tty: tty, Detach: detach}
			if tty {
				req.Rows, req.Cols = run.TerminalSize(os.Stdin, os.Stdout)
			}
			stdin := os.Stdin
			if !interactive || detach {
				if stdin, err = os.Open(os.DevNull); err != nil {
					return err
				}
				defer stdin.Close()
			}
			stdout, stderr := os.Stdout, os.Stderr
			if detach {
				stdout, stderr = stdin, stdin
			}
			var relays *run.TerminalPipes
			if !tty && !detach {
				// Without -t the user's terminal stays out of the
				// container, as with nook run: relayed through pipes.
				if relays, err = run.PipeTerminals(&stdin, &stdout, &stderr); err != nil {
					return fmt.Errorf("exec: %w", err)
				}
			}
			code, err := cs.Exec(ctr, req, stdin, stdout, stderr)
			relays.CloseChildEnds()
			relays.Wait()
			if errors.Is(err, run.ErrNotRunning) {
				return fmt.Errorf("container %s is not running: start it first ('nook start %s')", ctr.Name, ctr.Name)
			}
			var se *run.StartError
			if errors.As(err, &se) {
				return &exitError{code: se.Code, err: se}
			}
			if err != nil {
				return err
			}
			return &exitError{code: code}
		},
	}
	c.Flags().SetInterspersed(false)
	fl := c.Flags()
	fl.BoolVarP(&interactive, "interactive", "i", false, "Keep STDIN open")
	fl.BoolVarP(&tty, "tty", "t", false, "Allocate a pseudo-TTY")
	fl.BoolVarP(&detach, "detach", "d", false, "Detached mode: run command in the background")
	fl.StringArrayVarP(&env, "env", "e", nil, "Set environment variables")
	fl.StringArrayVar(&envFiles, "env-file", nil, "Read in a file of environment variables")
	fl.StringVarP(&workdir, "workdir", "w", "", "Working directory inside the container")
	fl.StringVarP(&user, "user", "u", "", "Username or UID (format: <name|uid>[:<group|gid>])")
	c.ValidArgsFunction = completeContainers
	return c
}

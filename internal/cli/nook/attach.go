package nook

import (
	"errors"
	"fmt"
	"os"
	"os/signal"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"
	"golang.org/x/term"

	"github.com/nookrun/nook/run"
)

// defaultDetachKeys are Docker's: ctrl-p ctrl-q.
const defaultDetachKeys = "ctrl-p,ctrl-q"

func newAttachCmd() *cobra.Command {
	var noStdin bool
	var keys string
	c := &cobra.Command{
		Use:   "attach [OPTIONS] CONTAINER",
		Short: "Attach local standard input, output, and error streams to a running container",
		Long: `Attach local standard input, output, and error streams to a running
container started with -d (or nook start). Detach with ctrl-p ctrl-q; the
container keeps running. nook attach returns the container's exit code when
it ends.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cs, c, err := openContainer(cmd, args[0])
			if err != nil {
				return err
			}
			return attachKeys(cmd, cs, c, !noStdin, keys)
		},
	}
	c.Flags().BoolVar(&noStdin, "no-stdin", false, "Do not attach STDIN")
	c.Flags().StringVar(&keys, "detach-keys", defaultDetachKeys, "Override the key sequence for detaching a container")
	c.ValidArgsFunction = completeContainers
	return c
}

// attachWith attaches the terminal to the monitor nook start -a started.
func attachWith(cmd *cobra.Command, cs *run.Containers, c *run.Container, set *run.Settings, a *attachment) error {
	return attachStdio(cmd, set, a.stdin, defaultDetachKeys, func(opts run.AttachOptions) (int, error) {
		code, err := run.AttachOn(a.mine, c.Name, opts)
		if err == nil {
			// As docker start -a: back once the container has stopped
			// (its monitor recorded the end), not just its output.
			cs.Wait(c)
		}
		return code, err
	})
}

// attachKeys attaches the terminal (or whatever stdio is) to c until it
// ends (then nook exits with its code) or the user detaches.
func attachKeys(cmd *cobra.Command, cs *run.Containers, c *run.Container, stdin bool, keys string) error {
	set, err := c.Settings()
	if err != nil {
		return err
	}
	return attachStdio(cmd, set, stdin, keys, func(opts run.AttachOptions) (int, error) {
		return cs.Attach(c, opts)
	})
}

func attachStdio(cmd *cobra.Command, set *run.Settings, stdin bool, keys string, attach func(run.AttachOptions) (int, error)) error {
	detach, err := parseDetachKeys(keys)
	if err != nil {
		return usageErr(cmd, err)
	}
	opts := run.AttachOptions{Stdout: os.Stdout, Stderr: os.Stderr}
	if stdin && set.Interactive {
		opts.Stdin = os.Stdin
		if set.Process.Tty {
			opts.DetachKeys = detach
		}
	}
	if set.Process.Tty && term.IsTerminal(int(os.Stdin.Fd())) {
		old, err := term.MakeRaw(int(os.Stdin.Fd()))
		if err == nil {
			defer term.Restore(int(os.Stdin.Fd()), old)
		}
		sizes := make(chan [2]uint16, 1)
		winch := make(chan os.Signal, 1)
		signal.Notify(winch, unix.SIGWINCH)
		defer signal.Stop(winch)
		send := func() {
			if r, c := run.TerminalSize(os.Stdin, os.Stdout); r > 0 {
				select {
				case sizes <- [2]uint16{r, c}:
				default:
				}
			}
		}
		send()
		go func() {
			for range winch {
				send()
			}
		}()
		opts.Resize = sizes
	}
	code, err := attach(opts)
	if errors.Is(err, run.ErrDetached) {
		fmt.Fprintln(os.Stderr)
		return nil
	}
	if err != nil {
		return err
	}
	return &exitError{code: code}
}

// parseDetachKeys reads Docker's --detach-keys: comma-separated keys,
// each a character or ctrl-X.
func parseDetachKeys(s string) ([]byte, error) {
	if s == "" {
		return nil, nil
	}
	var out []byte
	for _, k := range splitComma(s) {
		switch {
		case len(k) == 1:
			out = append(out, k[0])
		case len(k) == 6 && k[:5] == "ctrl-":
			ch := k[5]
			switch {
			case ch >= 'a' && ch <= 'z':
				out = append(out, ch-'a'+1)
			case ch == '@':
				out = append(out, 0)
			case ch >= '[' && ch <= '_':
				out = append(out, ch-'['+27)
			default:
				return nil, fmt.Errorf("invalid --detach-keys %q: %q is not a key (use a letter, or ctrl-a … ctrl-z, ctrl-@, ctrl-[ … ctrl-_)", s, k)
			}
		default:
			return nil, fmt.Errorf("invalid --detach-keys %q: %q is not a key (use a letter, or ctrl-a … ctrl-z)", s, k)
		}
	}
	return out, nil
}

func splitComma(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ',' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return out
}

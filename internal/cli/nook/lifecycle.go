package nook

import (
	"errors"
	"fmt"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/nookrun/nook/run"
)

// eachContainer runs fn for every named container, prints the name of
// each it succeeded for (as Docker does) and joins the errors.
func eachContainer(cmd *cobra.Command, refs []string, fn func(cs *run.Containers, c *run.Container) error) error {
	cs, _, err := openContainers(cmd)
	if err != nil {
		return err
	}
	var errs []error
	for _, ref := range refs {
		c, err := cs.Get(ref)
		if err == nil {
			err = fn(cs, c)
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		fmt.Fprintln(cmd.OutOrStdout(), ref)
	}
	return errors.Join(errs...)
}

func newStopCmd() *cobra.Command {
	var timeout int
	c := &cobra.Command{
		Use:   "stop [OPTIONS] CONTAINER [CONTAINER...]",
		Short: "Stop one or more running containers",
		Long: `Stop one or more running containers: the container's stop signal (the
image's StopSignal or --stop-signal, else SIGTERM), then SIGKILL after the
timeout. A stopped container is not restarted by its restart policy.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return eachContainer(cmd, args, func(cs *run.Containers, c *run.Container) error {
				t := timeout
				if !cmd.Flags().Changed("time") {
					if set, err := c.Settings(); err == nil {
						t = set.StopTimeout
					}
				}
				return interruptible(cmd, func() error { return cs.Stop(c, time.Duration(t)*time.Second) })
			})
		},
	}
	c.Flags().IntVarP(&timeout, "time", "t", 10, "Seconds to wait before killing the container")
	c.ValidArgsFunction = completeContainers
	return c
}

func newKillCmd() *cobra.Command {
	var signal string
	c := &cobra.Command{
		Use:   "kill [OPTIONS] CONTAINER [CONTAINER...]",
		Short: "Kill one or more running containers",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			sig, err := parseSignal(signal)
			if err != nil {
				return usageErr(cmd, err)
			}
			return eachContainer(cmd, args, func(cs *run.Containers, c *run.Container) error {
				// SIGKILL or the container's stop signal is the user's
				// stop, as far as restarts go (docker kill's rule).
				stopSig := syscall.SIGTERM
				if set, err := c.Settings(); err == nil && set.StopSignal != 0 {
					stopSig = syscall.Signal(set.StopSignal)
				}
				err := cs.Signal(c, sig, sig == syscall.SIGKILL || sig == stopSig)
				if errors.Is(err, run.ErrNotRunning) {
					return fmt.Errorf("cannot kill container %s: it is not running", c.Name)
				}
				return err
			})
		},
	}
	c.Flags().StringVarP(&signal, "signal", "s", "KILL", "Signal to send to the container")
	c.ValidArgsFunction = completeContainers
	return c
}

func newWaitCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "wait CONTAINER [CONTAINER...]",
		Short: "Block until one or more containers stop, then print their exit codes",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cs, _, err := openContainers(cmd)
			if err != nil {
				return err
			}
			var errs []error
			for _, ref := range args {
				c, err := cs.Get(ref)
				if err == nil {
					err = interruptible(cmd, func() error { return cs.Wait(c) })
				}
				if err != nil {
					errs = append(errs, err)
					continue
				}
				fmt.Fprintln(cmd.OutOrStdout(), c.ExitCode)
			}
			return errors.Join(errs...)
		},
	}
	c.ValidArgsFunction = completeContainers
	return c
}

func newStartCmd() *cobra.Command {
	var attach, interactive bool
	c := &cobra.Command{
		Use:   "start [OPTIONS] CONTAINER [CONTAINER...]",
		Short: "Start one or more stopped containers",
		Long: `Start one or more stopped containers, on the writable layer they had, in
the background with a monitor of their own (as nook run -d). With -a the
output of the (single) container is shown and nook start returns its exit code.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if (attach || interactive) && len(args) > 1 {
				return usageErr(cmd, errors.New("you cannot start and attach multiple containers at once"))
			}
			if !attach && !interactive {
				return eachContainer(cmd, args, func(cs *run.Containers, c *run.Container) error {
					return startContainer(cmd, cs, c, nil)
				})
			}
			cs, c, err := openContainer(cmd, args[0])
			if err != nil {
				return err
			}
			set, err := c.Settings()
			if err != nil {
				return err
			}
			mine, theirs, err := run.NewAttachPair()
			if err != nil {
				return err
			}
			defer mine.Close()
			a := &attachment{mine: mine, theirs: theirs, stdin: interactive && set.Interactive}
			if err := startContainer(cmd, cs, c, a); err != nil {
				return err
			}
			return attachWith(cmd, cs, c, set, a)
		},
	}
	c.Flags().BoolVarP(&attach, "attach", "a", false, "Attach STDOUT/STDERR and forward signals")
	c.Flags().BoolVarP(&interactive, "interactive", "i", false, "Attach container's STDIN")
	c.ValidArgsFunction = completeContainers
	return c
}

// startContainer starts a stopped container in the background; one that
// runs already is left alone, as Docker does.
func startContainer(cmd *cobra.Command, cs *run.Containers, c *run.Container, a *attachment) error {
	if err := cs.Lock(c); err != nil {
		if errors.Is(err, run.ErrRunning) {
			if a != nil {
				return fmt.Errorf("container %s is running already: use nook attach", c.Name)
			}
			return nil
		}
		return err
	}
	store, err := openStore(cmd)
	if err != nil {
		c.Unlock()
		return err
	}
	set, err := c.Settings()
	if err != nil {
		c.Unlock()
		return err
	}
	// Found again here, before the monitor starts, so that a missing
	// delegation is this command's clear error (and systemd-run, when it
	// is needed, wraps this nook and the monitor it starts).
	if _, err := cgroupsFor(cmd, set.Resources); err != nil {
		c.Unlock()
		return err
	}
	return startDetached(cmd, cs, c, store.Root(), true, a)
}

func newRestartCmd() *cobra.Command {
	var timeout int
	c := &cobra.Command{
		Use:   "restart [OPTIONS] CONTAINER [CONTAINER...]",
		Short: "Restart one or more containers",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return eachContainer(cmd, args, func(cs *run.Containers, c *run.Container) error {
				t := timeout
				if !cmd.Flags().Changed("time") {
					if set, err := c.Settings(); err == nil {
						t = set.StopTimeout
					}
				}
				if err := cs.Stop(c, time.Duration(t)*time.Second); err != nil {
					return err
				}
				return startContainer(cmd, cs, c, nil)
			})
		},
	}
	c.Flags().IntVarP(&timeout, "time", "t", 10, "Seconds to wait before killing the container")
	c.ValidArgsFunction = completeContainers
	return c
}

func newRenameCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "rename CONTAINER NEW_NAME",
		Short: "Rename a container",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			cs, c, err := openContainer(cmd, args[0])
			if err != nil {
				return err
			}
			return cs.Rename(c, args[1])
		},
	}
	c.ValidArgsFunction = completeContainers
	return c
}

// interruptible runs a wait for a container that Ctrl-C (or SIGTERM) ends,
// as Docker's client does: the container is not touched.
func interruptible(cmd *cobra.Command, wait func() error) error {
	done := make(chan error, 1)
	go func() { done <- wait() }()
	select {
	case err := <-done:
		return err
	case <-cmd.Context().Done():
		return &exitError{code: 130, err: errors.New("interrupted")}
	}
}

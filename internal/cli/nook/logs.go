package nook

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/nookrun/nook/run/ctrlog"
)

func newLogsCmd() *cobra.Command {
	var (
		follow, timestamps bool
		tail, since, until string
	)
	c := &cobra.Command{
		Use:   "logs [OPTIONS] CONTAINER",
		Short: "Fetch the logs of a container",
		Long: `Fetch the logs of a container started with -d (or nook start): its stdout
and stderr, kept in the container's directory and rotated at --log-opt
max-size. A container run in the foreground wrote to its terminal only.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts := ctrlog.ReadOptions{Follow: follow, Timestamps: timestamps, Tail: -1}
			if tail != "all" && tail != "" {
				n, err := strconv.Atoi(tail)
				if err != nil || n < 0 {
					return usageErr(cmd, fmt.Errorf("invalid --tail %q: give a number of lines or all", tail))
				}
				opts.Tail = n
			}
			now := time.Now()
			var err error
			if since != "" {
				if opts.Since, err = ctrlog.ParseSince(since, now); err != nil {
					return usageErr(cmd, err)
				}
			}
			if until != "" {
				if opts.Until, err = ctrlog.ParseSince(until, now); err != nil {
					return usageErr(cmd, err)
				}
			}
			cs, ctr, err := openContainer(cmd, args[0])
			if err != nil {
				return err
			}
			if _, err := os.Stat(filepath.Join(ctr.Dir(), "ctr.log")); errors.Is(err, os.ErrNotExist) {
				if !ctr.Detached {
					return fmt.Errorf("container %s ran in the foreground: its output went to its terminal and has no log (run it with -d, or nook start it)", ctr.Name)
				}
			}
			if follow {
				done := make(chan struct{})
				go func() {
					// The monitor holds the lock until the container
					// has ended for good and its output is written.
					cs.Wait(ctr)
					close(done)
				}()
				opts.Done = done
			}
			err = ctrlog.Read(cmd.Context(), ctr.Dir(), opts, os.Stdout, os.Stderr)
			if errors.Is(err, context.Canceled) {
				// Ctrl-C ends a follow: nothing to report.
				return &exitError{code: 130}
			}
			return err
		},
	}
	fl := c.Flags()
	fl.BoolVarP(&follow, "follow", "f", false, "Follow log output")
	fl.BoolVarP(&timestamps, "timestamps", "t", false, "Show timestamps")
	fl.StringVarP(&tail, "tail", "n", "all", "Number of lines to show from the end of the logs")
	fl.StringVar(&since, "since", "", "Show logs since timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m for 42 minutes)")
	fl.StringVar(&until, "until", "", "Show logs before a timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m for 42 minutes)")
	c.ValidArgsFunction = completeContainers
	return c
}

package nook

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/nookrun/nook/run"
)

func newPsCmd() *cobra.Command {
	var all, quiet, noTrunc bool
	c := &cobra.Command{
		Use:     "ps [OPTIONS]",
		Aliases: []string{"list", "ls"},
		Short:   "List containers",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cs, _, err := openContainers(cmd)
			if err != nil {
				return err
			}
			list, err := cs.List()
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if quiet {
				for _, c := range list {
					if all || c.State == run.StateRunning {
						fmt.Fprintln(out, idOf(c, noTrunc))
					}
				}
				return nil
			}
			tw := tabwriter.NewWriter(out, 0, 8, 3, ' ', 0)
			fmt.Fprintln(tw, "CONTAINER ID\tIMAGE\tCOMMAND\tCREATED\tSTATUS\tPORTS\tNAMES")
			for _, c := range list {
				if !all && c.State != run.StateRunning {
					continue
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", idOf(c, noTrunc), c.Image, quoteCommand(c.Command, noTrunc),
					sinceText(c.Created), status(c), portsText(c), c.Name)
			}
			return tw.Flush()
		},
	}
	c.Flags().BoolVarP(&all, "all", "a", false, "Show all containers (default shows just running)")
	c.Flags().BoolVarP(&quiet, "quiet", "q", false, "Only display container IDs")
	c.Flags().BoolVar(&noTrunc, "no-trunc", false, "Don't truncate output")
	return c
}

func idOf(c *run.Container, noTrunc bool) string {
	if noTrunc {
		return c.ID
	}
	return c.ShortID()
}

// quoteCommand shows a command as Docker's ps does: quoted, cut at 20.
func quoteCommand(argv []string, noTrunc bool) string {
	s := strings.Join(argv, " ")
	if !noTrunc && len(s) > 20 {
		s = s[:19] + "…"
	}
	return `"` + s + `"`
}

// status is Docker's STATUS column.
func status(c *run.Container) string {
	switch c.State {
	case run.StateRunning:
		return "Up " + durationText(time.Since(c.Started))
	case run.StateExited:
		if c.Lost {
			return "Exited (unknown: nook was killed)"
		}
		st := fmt.Sprintf("Exited (%d) %s", c.ExitCode, sinceText(c.Finished))
		if c.OOMKilled {
			st += " (OOMKilled)"
		}
		return st
	}
	return "Created"
}

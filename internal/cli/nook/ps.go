package nook

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"
	"text/template"
	"time"

	"github.com/spf13/cobra"

	"github.com/nookrun/nook/run"
)

func newPsCmd() *cobra.Command {
	var (
		all, quiet, noTrunc, latest bool
		last                        int
		format                      string
		filters                     []string
	)
	c := &cobra.Command{
		Use:     "ps [OPTIONS]",
		Aliases: []string{"list", "ls"},
		Short:   "List containers",
		Long: `List containers: the running ones, or all with -a. --format takes a Go
template over .ID .Image .Command .CreatedAt .RunningFor .Ports .State
.Status .Names .Networks (prefix "table " for a header), or "json".
--filter takes name=, id=, status= (created, running, restarting, exited)
and exited=CODE.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cs, _, err := openContainers(cmd)
			if err != nil {
				return err
			}
			list, err := cs.List()
			if err != nil {
				return err
			}
			keep, err := psFilter(filters)
			if err != nil {
				return usageErr(cmd, err)
			}
			if latest {
				last = 1
			}
			var rows []psRow
			for _, c := range list {
				if !all && last <= 0 && c.State != run.StateRunning && c.State != run.StateRestarting {
					continue
				}
				if !keep(c) {
					continue
				}
				rows = append(rows, newPsRow(c, noTrunc))
				if last > 0 && len(rows) == last {
					break
				}
			}
			return printPs(cmd, rows, quiet, format)
		},
	}
	fl := c.Flags()
	fl.BoolVarP(&all, "all", "a", false, "Show all containers (default shows just running)")
	fl.BoolVarP(&quiet, "quiet", "q", false, "Only display container IDs")
	fl.BoolVar(&noTrunc, "no-trunc", false, "Don't truncate output")
	fl.BoolVarP(&latest, "latest", "l", false, "Show the latest created container (includes all states)")
	fl.IntVarP(&last, "last", "n", -1, "Show n last created containers (includes all states)")
	fl.StringVar(&format, "format", "", "Format output using a custom template ('table', 'table TEMPLATE', 'json' or a Go template)")
	fl.StringArrayVarP(&filters, "filter", "f", nil, "Filter output based on conditions provided (name=, id=, status=, exited=)")
	return c
}

// psRow is one container as ps --format sees it, Docker's field names.
type psRow struct {
	ID, Image, Command, CreatedAt, RunningFor, Ports, State, Status, Names, Networks string
}

func newPsRow(c *run.Container, noTrunc bool) psRow {
	return psRow{
		ID:         idOf(c, noTrunc),
		Image:      c.Image,
		Command:    quoteCommand(c.Command, noTrunc),
		CreatedAt:  c.Created.Local().Format("2006-01-02 15:04:05 -0700 MST"),
		RunningFor: sinceText(c.Created),
		Ports:      portsText(c),
		State:      c.State,
		Status:     status(c),
		Names:      c.Name,
		Networks:   c.Network,
	}
}

const psTable = "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}"

// psHeaders are the columns' titles for a "table" format.
var psHeaders = psRow{ID: "CONTAINER ID", Image: "IMAGE", Command: "COMMAND", CreatedAt: "CREATED AT",
	RunningFor: "CREATED", Ports: "PORTS", State: "STATE", Status: "STATUS", Names: "NAMES", Networks: "NETWORKS"}

func printPs(cmd *cobra.Command, rows []psRow, quiet bool, format string) error {
	out := cmd.OutOrStdout()
	switch {
	case quiet:
		for _, r := range rows {
			fmt.Fprintln(out, r.ID)
		}
		return nil
	case format == "json":
		for _, r := range rows {
			b, err := json.Marshal(r)
			if err != nil {
				return err
			}
			fmt.Fprintln(out, string(b))
		}
		return nil
	case format == "" || format == "table":
		format = psTable
	}
	text, table := strings.CutPrefix(format, "table ")
	// Written in a shell's quotes, as Docker's documentation does.
	text = strings.NewReplacer(`\t`, "\t", `\n`, "\n").Replace(text)
	tmpl, err := template.New("ps").Funcs(template.FuncMap{"json": jsonText}).Parse(text)
	if err != nil {
		return usageErr(cmd, fmt.Errorf("--format: %w", err))
	}
	tw := tabwriter.NewWriter(out, 0, 8, 3, ' ', 0)
	if table {
		if err := tmpl.Execute(tw, psHeaders); err != nil {
			return fmt.Errorf("--format: %w", err)
		}
		fmt.Fprintln(tw)
	}
	for _, r := range rows {
		if err := tmpl.Execute(tw, r); err != nil {
			return fmt.Errorf("--format: %w", err)
		}
		fmt.Fprintln(tw)
	}
	return tw.Flush()
}

// psFilter reads --filter KEY=VALUE conditions; all must hold.
func psFilter(filters []string) (func(*run.Container) bool, error) {
	var conds []func(*run.Container) bool
	for _, f := range filters {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			return nil, fmt.Errorf("invalid --filter %q: use KEY=VALUE", f)
		}
		switch k {
		case "name":
			conds = append(conds, func(c *run.Container) bool { return strings.Contains(c.Name, v) })
		case "id":
			conds = append(conds, func(c *run.Container) bool { return strings.HasPrefix(c.ID, v) })
		case "status":
			switch v {
			case run.StateCreated, run.StateRunning, run.StateRestarting, run.StateExited:
			default:
				return nil, fmt.Errorf("invalid --filter status=%s: use created, running, restarting or exited", v)
			}
			conds = append(conds, func(c *run.Container) bool { return c.State == v })
		case "exited":
			conds = append(conds, func(c *run.Container) bool {
				return c.State == run.StateExited && fmt.Sprint(c.ExitCode) == v
			})
		default:
			return nil, fmt.Errorf("invalid --filter %q: nook filters on name, id, status and exited", f)
		}
	}
	return func(c *run.Container) bool {
		for _, cond := range conds {
			if !cond(c) {
				return false
			}
		}
		return true
	}, nil
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
	case run.StateRestarting:
		return fmt.Sprintf("Restarting (%d) %s", c.ExitCode, sinceText(c.Finished))
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

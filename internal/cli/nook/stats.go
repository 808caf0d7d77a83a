package nook

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/nookrun/nook/cgroupdeleg"
	"github.com/nookrun/nook/run"
)

// statsInterval is the time between two samples: CPU % is the CPU time
// used over it.
const statsInterval = time.Second

func newStatsCmd() *cobra.Command {
	var noStream, noTrunc bool
	c := &cobra.Command{
		Use:   "stats [OPTIONS] [CONTAINER...]",
		Short: "Display a live stream of container(s) resource usage statistics",
		Long: `Stats shows the resource use of running containers, read from their cgroups:
CPU % (of one CPU, over the last second), memory use and limit, the number
of tasks and their limit, and block I/O. Without containers named, all
running ones. A container without a cgroup (none is delegated to nook
here: see 'nook info') has no statistics.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			cs, _, err := openContainers(cmd)
			if err != nil {
				return err
			}
			targets, err := statsTargets(cs, args)
			if err != nil {
				return err
			}
			return streamStats(cmd, targets, !noStream, noTrunc)
		},
	}
	c.Flags().BoolVar(&noStream, "no-stream", false, "Disable streaming stats and only pull the first result")
	c.Flags().BoolVar(&noTrunc, "no-trunc", false, "Do not truncate output")
	c.ValidArgsFunction = completeContainers
	return c
}

// statsTargets are the containers named, or all running ones.
func statsTargets(cs *run.Containers, refs []string) ([]*run.Container, error) {
	if len(refs) == 0 {
		all, err := cs.List()
		if err != nil {
			return nil, err
		}
		var out []*run.Container
		for _, c := range all {
			if c.State == run.StateRunning {
				out = append(out, c)
			}
		}
		return out, nil
	}
	var out []*run.Container
	for _, ref := range refs {
		c, err := cs.Get(ref)
		if err != nil {
			return nil, err
		}
		if c.State != run.StateRunning {
			return nil, fmt.Errorf("container %s is not running", ref)
		}
		if c.Cgroup == "" {
			return nil, fmt.Errorf("container %s has no cgroup, so no statistics: no cgroup v2 subtree was delegated to nook when it started ('nook info' says why)", ref)
		}
		out = append(out, c)
	}
	return out, nil
}

// streamStats prints a table per interval until interrupted, or once.
func streamStats(cmd *cobra.Command, targets []*run.Container, stream, noTrunc bool) error {
	out := cmd.OutOrStdout()
	prev := sampleAll(targets)
	tty := false
	if f, ok := out.(*os.File); ok {
		tty = term.IsTerminal(int(f.Fd()))
	}
	for {
		select {
		case <-cmd.Context().Done():
			return nil
		case <-time.After(statsInterval):
		}
		cur := sampleAll(targets)
		if stream && tty {
			// Docker's way: clear the screen, table at the top.
			io.WriteString(out, "\033[2J\033[H")
		}
		if err := printStats(out, targets, prev, cur, noTrunc); err != nil {
			return err
		}
		if !stream {
			return nil
		}
		prev = cur
	}
}

// sample is one container's stats, or why there are none.
type sample struct {
	stats cgroupdeleg.Stats
	err   error
}

func sampleAll(targets []*run.Container) []sample {
	out := make([]sample, len(targets))
	for i, c := range targets {
		if c.Cgroup == "" {
			out[i].err = fmt.Errorf("no cgroup")
			continue
		}
		out[i].stats, out[i].err = cgroupdeleg.Open(c.Cgroup).Stats()
	}
	return out
}

// printStats prints docker stats' table; a container whose cgroup could
// not be read (it ended meanwhile, or has none) shows "--".
func printStats(w io.Writer, targets []*run.Container, prev, cur []sample, noTrunc bool) error {
	tw := tabwriter.NewWriter(w, 0, 8, 3, ' ', 0)
	fmt.Fprintln(tw, "CONTAINER ID\tNAME\tCPU %\tMEM USAGE / LIMIT\tMEM %\tPIDS\tBLOCK I/O")
	total := hostMemory()
	for i, c := range targets {
		if prev[i].err != nil || cur[i].err != nil {
			fmt.Fprintf(tw, "%s\t%s\t--\t-- / --\t--\t--\t-- / --\n", idOf(c, noTrunc), c.Name)
			continue
		}
		s := cur[i].stats
		limit := s.MemoryLimit
		if limit == 0 || total > 0 && limit > total {
			limit = total
		}
		memPct := 0.0
		if limit > 0 {
			memPct = float64(s.Memory) * 100 / float64(limit)
		}
		fmt.Fprintf(tw, "%s\t%s\t%.2f%%\t%s / %s\t%.2f%%\t%d\t%s / %s\n", idOf(c, noTrunc), c.Name,
			cgroupdeleg.CPUPercent(prev[i].stats, s), binarySize(s.Memory), binarySize(limit), memPct, s.Pids,
			sizeText(int64(s.ReadBytes)), sizeText(int64(s.WriteBytes)))
	}
	return tw.Flush()
}

// binarySize is a size in binary units, as docker stats shows memory
// ("1.5MiB", "64MiB").
func binarySize(n uint64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB"}
	f := float64(n)
	i := 0
	for f >= 1024 && i < len(units)-1 {
		f /= 1024
		i++
	}
	return fmt.Sprintf("%.4g%s", f, units[i])
}

// hostMemory is the machine's memory (MemTotal), the limit of a
// container without one; 0 if unknown.
func hostMemory() uint64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), "MemTotal:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb * 1024
		}
	}
	return 0
}

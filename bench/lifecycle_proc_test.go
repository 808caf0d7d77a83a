package bench

import (
	"bytes"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// A procID names one process for good: the pid with its start time (in
// clock ticks since boot), since pid_max is 32768 here and other work on
// the machine recycles pids within the benchmark's minutes.
type procID struct {
	pid   int
	start uint64
}

// procInfo is what BenchmarkLifecycle reads of a process from /proc:
// stat's comm, state, ppid and start time, and the command line.
type procInfo struct {
	id    procID
	comm  string
	state byte
	ppid  int
	args  []string
}

// procTable is a snapshot of every process the benchmark can see. The
// benchmark runs in nstest's user namespace but in the host's PID
// namespace, so /proc is the host's; stat and cmdline need no ptrace
// access (status does not either; smaps_rollup does, see readMemory).
type procTable map[int]procInfo

// readProcTable takes the snapshot. Processes that end while it is taken
// are left out.
func readProcTable() (procTable, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, fmt.Errorf("list processes: %w", err)
	}
	tab := procTable{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if pi, err := readProcInfo(pid); err == nil {
			tab[pid] = pi
		}
	}
	return tab, nil
}

// readProcInfo reads one process's stat and cmdline.
func readProcInfo(pid int) (procInfo, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procInfo{}, err
	}
	// "PID (COMM) STATE PPID ...": comm may hold spaces and parentheses,
	// so it ends at the last ")". starttime is field 22, the 20th after
	// comm.
	open, end := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
	if open < 0 || end < open {
		return procInfo{}, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	f := strings.Fields(string(b[end+1:]))
	if len(f) < 20 || len(f[0]) != 1 {
		return procInfo{}, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	ppid, err := strconv.Atoi(f[1])
	if err != nil {
		return procInfo{}, fmt.Errorf("/proc/%d/stat: ppid: %w", pid, err)
	}
	start, err := strconv.ParseUint(f[19], 10, 64)
	if err != nil {
		return procInfo{}, fmt.Errorf("/proc/%d/stat: starttime: %w", pid, err)
	}
	pi := procInfo{id: procID{pid, start}, comm: string(b[open+1 : end]), state: f[0][0], ppid: ppid}
	if cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); err == nil && len(cmdline) > 0 {
		pi.args = strings.Split(strings.TrimSuffix(string(cmdline), "\x00"), "\x00")
	}
	return pi, nil
}

// live reports whether the process runs: zombies have ended.
func (pi procInfo) live() bool { return pi.state != 'Z' && pi.state != 'X' }

// tree is pid and its live descendants, pid first.
func (tab procTable) tree(pid int) []procID {
	children := map[int][]int{}
	for p, pi := range tab {
		children[pi.ppid] = append(children[pi.ppid], p)
	}
	var ids []procID
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if pi, ok := tab[p]; ok && pi.live() {
			ids = append(ids, pi.id)
		}
		kids := children[p]
		slices.Sort(kids)
		queue = append(queue, kids...)
	}
	return ids
}

// describe names a process for a message: pid, comm and command line.
func (tab procTable) describe(pid int) string {
	pi, ok := tab[pid]
	if !ok {
		return strconv.Itoa(pid)
	}
	return fmt.Sprintf("%d %s (%s)", pid, pi.comm, clipText(strings.Join(pi.args, " ")))
}

// stillRunning lists the processes of ids that still run: the same pid
// with the same start time, not a zombie.
func stillRunning(ids []procID) []string {
	var found []string
	for _, id := range ids {
		pi, err := readProcInfo(id.pid)
		if err != nil || pi.id != id || !pi.live() {
			continue
		}
		found = append(found, fmt.Sprintf("%d %s (%s)", id.pid, pi.comm, clipText(strings.Join(pi.args, " "))))
	}
	return found
}

// allEnded waits, up to leftoverTimeout, until none of ids runs, and
// names those that still do after that.
func allEnded(ids []procID) error {
	deadline := time.Now().Add(leftoverTimeout)
	for {
		found := stillRunning(ids)
		if len(found) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of the containers' processes still run %s after they were stopped: %s",
				len(found), leftoverTimeout, strings.Join(found, "; "))
		}
		time.Sleep(leftoverPoll)
	}
}

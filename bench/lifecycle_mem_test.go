package bench

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// procMem is one process's resident memory in KiB: rss is VmRSS from
// /proc/PID/status (every page it maps that is resident, shared or not),
// pss is Pss from /proc/PID/smaps_rollup (each page divided by the number
// of processes mapping it, so the Pss of all processes adds up to the
// memory they use together); anon and file split rss into anonymous
// memory (RssAnon: heap, stacks) and mapped files (RssFile: the binary's
// text and data, mostly).
type procMem struct{ rss, pss, anon, file float64 }

// readMemoryScript prints "pid N", then the process's status and
// smaps_rollup, for every pid given; "unreadable" after cat's complaint
// when a file cannot be read.
const readMemoryScript = `for p; do echo "pid $p"; cat /proc/$p/status /proc/$p/smaps_rollup 2>&1 || echo unreadable; done`

// readMemory reads every process's procMem. It runs on the host, through
// the host runner: smaps_rollup needs ptrace read access, which the
// kernel refuses to a process in a user namespace below the target's
// (this one, in nstest's) even of the same user; the user on the host
// has it for its own processes and for those in the user namespaces it
// owns (nook's containers, podman's namespace).
func readMemory(host *hostClient, pids []int) (map[int]procMem, error) {
	args := []string{"sh", "-c", readMemoryScript, "sh"}
	for _, p := range pids {
		args = append(args, strconv.Itoa(p))
	}
	out, err := host.output(nil, args...)
	if err != nil {
		return nil, fmt.Errorf("read the containers' memory: %w", err)
	}
	mem := map[int]procMem{}
	var errs []error
	cur, complaint := 0, ""
	for line := range strings.Lines(out) {
		line = strings.TrimSpace(line)
		f := strings.Fields(line)
		switch {
		case len(f) == 2 && f[0] == "pid":
			cur, complaint = 0, ""
			if cur, err = strconv.Atoi(f[1]); err != nil {
				return nil, fmt.Errorf("read the containers' memory: unexpected line %q", line)
			}
			mem[cur] = procMem{rss: -1, pss: -1}
		case strings.HasPrefix(line, "cat: "):
			complaint = line
		case line == "unreadable":
			errs = append(errs, fmt.Errorf("process %d: %s", cur, complaint))
		case len(f) == 3 && f[2] == "kB":
			m := mem[cur]
			var to *float64
			switch f[0] {
			case "VmRSS:":
				to = &m.rss
			case "Pss:":
				to = &m.pss
			case "RssAnon:":
				to = &m.anon
			case "RssFile:":
				to = &m.file
			default:
				continue
			}
			kib, err := strconv.ParseFloat(f[1], 64)
			if err != nil {
				return nil, fmt.Errorf("read the containers' memory: process %d: %q: %w", cur, line, err)
			}
			*to = kib
			mem[cur] = m
		}
	}
	for _, p := range pids {
		if m, ok := mem[p]; !ok || m.rss < 0 || m.pss < 0 {
			errs = append(errs, fmt.Errorf("process %d: no VmRSS or no Pss in /proc/%d/status and smaps_rollup", p, p))
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("read the containers' memory: %w", errors.Join(errs...))
	}
	return mem, nil
}

// lifecycleMem is BenchmarkLifecycle's memory figures, in MiB, taken
// while every container runs, idle.
type lifecycleMem struct {
	// supRSS and supPSS are each container's supervising process (nook's
	// monitor, podman's conmon); fuseRSS and fusePSS its FUSE server when
	// that is a process of its own (podman's fuse-overlayfs).
	supRSS, supPSS   []float64
	supAnon, supFile []float64
	fuseRSS, fusePSS []float64
	// restRSS and restPSS add up the containers' other processes: the
	// workloads (and, were there any, network helpers).
	restRSS, restPSS float64
	// totalRSS and totalPSS add up every process of every container.
	totalRSS, totalPSS float64
	procs              int // how many processes that is
}

// measureMemory reads the memory of every process of ctrs and sorts it
// into a lifecycleMem.
func measureMemory(host *hostClient, ctrs []ctrProcs) (lifecycleMem, error) {
	var pids []int
	for _, c := range ctrs {
		for _, id := range c.all {
			pids = append(pids, id.pid)
		}
	}
	mem, err := readMemory(host, pids)
	if err != nil {
		return lifecycleMem{}, err
	}
	var lm lifecycleMem
	const kib = 1024
	for _, c := range ctrs {
		for _, id := range c.all {
			m := mem[id.pid]
			lm.totalRSS += m.rss / kib
			lm.totalPSS += m.pss / kib
			lm.procs++
			switch id.pid {
			case c.supervisor:
				lm.supRSS = append(lm.supRSS, m.rss/kib)
				lm.supPSS = append(lm.supPSS, m.pss/kib)
				lm.supAnon = append(lm.supAnon, m.anon/kib)
				lm.supFile = append(lm.supFile, m.file/kib)
			case c.fuse:
				lm.fuseRSS = append(lm.fuseRSS, m.rss/kib)
				lm.fusePSS = append(lm.fusePSS, m.pss/kib)
			default:
				lm.restRSS += m.rss / kib
				lm.restPSS += m.pss / kib
			}
		}
	}
	return lm, nil
}

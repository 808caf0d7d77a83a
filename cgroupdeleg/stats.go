package cgroupdeleg

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Stats is a sample of a cgroup's usage. A counter whose controller is
// not enabled there is 0, its limit 0 (unlimited).
type Stats struct {
	// Time is when the sample was taken.
	Time time.Time `json:"time"`
	// CPUUsec is the CPU time used, in microseconds (cpu.stat usage_usec).
	CPUUsec uint64 `json:"cpuUsec"`
	// ThrottledUsec and Throttled are the time and the number of periods
	// cpu.max held the cgroup back.
	ThrottledUsec uint64 `json:"throttledUsec,omitempty"`
	Throttled     uint64 `json:"throttled,omitempty"`
	// Memory is the memory in use, without the inactive page cache the
	// kernel would reclaim first (as Docker counts it); MemoryLimit is
	// memory.max, 0 for none.
	Memory      uint64 `json:"memory"`
	MemoryLimit uint64 `json:"memoryLimit,omitempty"`
	// OOMKills counts processes the OOM killer killed in the cgroup.
	OOMKills uint64 `json:"oomKills,omitempty"`
	// Pids is the number of tasks (threads included); PidsLimit is
	// pids.max, 0 for none.
	Pids      uint64 `json:"pids"`
	PidsLimit uint64 `json:"pidsLimit,omitempty"`
	// ReadBytes and WriteBytes are the block I/O, summed over devices.
	ReadBytes  uint64 `json:"readBytes"`
	WriteBytes uint64 `json:"writeBytes"`
}

// Stats samples the cgroup's counters.
func (c *Cgroup) Stats() (Stats, error) {
	s := Stats{Time: time.Now()}
	cpu, err := os.ReadFile(filepath.Join(c.dir, "cpu.stat"))
	if err != nil {
		// cpu.stat is there in every cgroup, controller or not.
		return s, fmt.Errorf("read the stats of cgroup %s: %w", c.dir, err)
	}
	s.CPUUsec, _ = keyValue(cpu, "usage_usec")
	s.ThrottledUsec, _ = keyValue(cpu, "throttled_usec")
	s.Throttled, _ = keyValue(cpu, "nr_throttled")
	s.Memory = readUint(filepath.Join(c.dir, "memory.current"))
	if b, err := os.ReadFile(filepath.Join(c.dir, "memory.stat")); err == nil {
		if inactive, ok := keyValue(b, "inactive_file"); ok && inactive < s.Memory {
			s.Memory -= inactive
		}
	}
	s.MemoryLimit = readUint(filepath.Join(c.dir, "memory.max"))
	s.OOMKills, _ = c.oomKills()
	s.Pids = readUint(filepath.Join(c.dir, "pids.current"))
	s.PidsLimit = readUint(filepath.Join(c.dir, "pids.max"))
	if b, err := os.ReadFile(filepath.Join(c.dir, "io.stat")); err == nil {
		s.ReadBytes, s.WriteBytes = ioBytes(b)
	}
	return s, nil
}

// OOMKilled reports whether the OOM killer killed a process in the
// cgroup (memory.events oom_kill), as Docker's OOMKilled says.
func (c *Cgroup) OOMKilled() bool {
	n, err := c.oomKills()
	return err == nil && n > 0
}

func (c *Cgroup) oomKills() (uint64, error) {
	b, err := os.ReadFile(filepath.Join(c.dir, "memory.events"))
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read memory.events of %s: %w", c.dir, err)
	}
	n, _ := keyValue(b, "oom_kill")
	return n, nil
}

// CPUPercent is the CPU used between two samples, as a percentage of
// one CPU (200 is two CPUs busy), as docker stats shows it.
func CPUPercent(prev, cur Stats) float64 {
	wall := cur.Time.Sub(prev.Time).Microseconds()
	if wall <= 0 || cur.CPUUsec < prev.CPUUsec {
		return 0
	}
	return float64(cur.CPUUsec-prev.CPUUsec) * 100 / float64(wall)
}

// keyValue finds "key N" in a flat-keyed cgroup file (cpu.stat,
// memory.events, cgroup.events).
func keyValue(b []byte, key string) (uint64, bool) {
	s := bufio.NewScanner(bytes.NewReader(b))
	for s.Scan() {
		k, v, ok := strings.Cut(s.Text(), " ")
		if ok && k == key {
			n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}

// readUint reads a one-number file; "max", a missing file or garbage are 0.
func readUint(p string) uint64 {
	b, err := os.ReadFile(p)
	if err != nil {
		return 0
	}
	n, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return 0
	}
	return n
}

// ioBytes sums io.stat's rbytes= and wbytes= over its devices:
// "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0".
func ioBytes(b []byte) (read, write uint64) {
	s := bufio.NewScanner(bytes.NewReader(b))
	for s.Scan() {
		fields := strings.Fields(s.Text())
		if len(fields) < 2 {
			continue
		}
		for _, f := range fields[1:] {
			k, v, _ := strings.Cut(f, "=")
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				continue
			}
			switch k {
			case "rbytes":
				read += n
			case "wbytes":
				write += n
			}
		}
	}
	return read, write
}

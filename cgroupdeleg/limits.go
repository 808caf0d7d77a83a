package cgroupdeleg

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Limits are a container's resource limits, as Docker's flags give them.
// The zero value limits nothing.
type Limits struct {
	// Memory is --memory in bytes (memory.max).
	Memory int64 `json:"memory,omitempty"`
	// MemoryReservation is --memory-reservation in bytes (memory.low).
	MemoryReservation int64 `json:"memoryReservation,omitempty"`
	// MemorySwap is --memory-swap: memory plus swap in bytes, -1 for
	// unlimited swap. Unset with Memory set, the container may swap as
	// much as Memory, as in Docker (memory.swap.max).
	MemorySwap int64 `json:"memorySwap,omitempty"`
	// NanoCPUs is --cpus in billionths of a CPU (cpu.max).
	NanoCPUs int64 `json:"nanoCPUs,omitempty"`
	// CPUShares is --cpu-shares, 2 to 262144 (cpu.weight, converted as
	// runc does).
	CPUShares uint64 `json:"cpuShares,omitempty"`
	// CPUSetCPUs is --cpuset-cpus: "0-2,4" (cpuset.cpus).
	CPUSetCPUs string `json:"cpusetCpus,omitempty"`
	// PidsLimit is --pids-limit (pids.max); 0 or less is no limit.
	PidsLimit int64 `json:"pidsLimit,omitempty"`
	// BlkioWeight is --blkio-weight, 10 to 1000 (io.bfq.weight, or
	// io.weight converted as runc does).
	BlkioWeight uint16 `json:"blkioWeight,omitempty"`
	// DeviceReadBps and DeviceWriteBps are --device-read-bps and
	// --device-write-bps (io.max rbps= and wbps=).
	DeviceReadBps  []DeviceRate `json:"deviceReadBps,omitempty"`
	DeviceWriteBps []DeviceRate `json:"deviceWriteBps,omitempty"`
}

// DeviceRate is a block device's rate limit in bytes per second.
type DeviceRate struct {
	Path string `json:"path"`
	Rate uint64 `json:"rate"`
}

// Controller names.
const (
	ctrlCPU    = "cpu"
	ctrlCPUSet = "cpuset"
	ctrlIO     = "io"
	ctrlMemory = "memory"
	ctrlPids   = "pids"
)

// enabledControllers are those nook enables for containers whenever the
// subtree has them, limits asked or not: stats read them.
var enabledControllers = []string{ctrlCPU, ctrlCPUSet, ctrlIO, ctrlMemory, ctrlPids}

// request is one flag the user set, and the controller it needs.
type request struct {
	flag       string
	controller string
}

// requests lists the flags set in l, in the order of Docker's help.
func (l Limits) requests() []request {
	var rs []request
	add := func(set bool, flag, controller string) {
		if set {
			rs = append(rs, request{flag, controller})
		}
	}
	add(l.Memory > 0, "--memory", ctrlMemory)
	add(l.MemoryReservation > 0, "--memory-reservation", ctrlMemory)
	add(l.MemorySwap != 0, "--memory-swap", ctrlMemory)
	add(l.NanoCPUs > 0, "--cpus", ctrlCPU)
	add(l.CPUShares > 0, "--cpu-shares", ctrlCPU)
	add(l.CPUSetCPUs != "", "--cpuset-cpus", ctrlCPUSet)
	add(l.PidsLimit > 0, "--pids-limit", ctrlPids)
	add(l.BlkioWeight > 0, "--blkio-weight", ctrlIO)
	add(len(l.DeviceReadBps) > 0, "--device-read-bps", ctrlIO)
	add(len(l.DeviceWriteBps) > 0, "--device-write-bps", ctrlIO)
	return rs
}

// Flags are the flags set in l ("--memory", "--cpus"...).
func (l Limits) Flags() []string {
	var out []string
	for _, r := range l.requests() {
		out = append(out, r.flag)
	}
	return out
}

// Empty reports whether l limits nothing.
func (l Limits) Empty() bool { return len(l.requests()) == 0 }

// Validate checks the limits as Docker does, without looking at the
// machine.
func (l Limits) Validate() error {
	switch {
	case l.Memory < 0 || l.MemoryReservation < 0:
		return fmt.Errorf("%w: memory sizes cannot be negative", ErrLimit)
	case l.Memory > 0 && l.Memory < 6<<20:
		return fmt.Errorf("%w: --memory %d is below the minimum of 6MB", ErrLimit, l.Memory)
	case l.MemorySwap != 0 && l.Memory == 0:
		return fmt.Errorf("%w: --memory-swap needs --memory as well (it is memory plus swap)", ErrLimit)
	case l.MemorySwap > 0 && l.MemorySwap < l.Memory:
		return fmt.Errorf("%w: --memory-swap %d is below --memory %d: it is memory plus swap, so at least as much", ErrLimit, l.MemorySwap, l.Memory)
	case l.MemorySwap < -1:
		return fmt.Errorf("%w: --memory-swap %d: use -1 for unlimited swap", ErrLimit, l.MemorySwap)
	case l.Memory > 0 && l.MemoryReservation > l.Memory:
		return fmt.Errorf("%w: --memory-reservation %d is above --memory %d", ErrLimit, l.MemoryReservation, l.Memory)
	case l.NanoCPUs < 0:
		return fmt.Errorf("%w: --cpus cannot be negative", ErrLimit)
	case l.NanoCPUs > 0 && l.NanoCPUs < 1e7:
		return fmt.Errorf("%w: --cpus %.3f is below the minimum of 0.01", ErrLimit, float64(l.NanoCPUs)/1e9)
	case l.CPUShares != 0 && (l.CPUShares < 2 || l.CPUShares > 262144):
		return fmt.Errorf("%w: --cpu-shares %d is out of range: 2 to 262144", ErrLimit, l.CPUShares)
	case l.BlkioWeight != 0 && (l.BlkioWeight < 10 || l.BlkioWeight > 1000):
		return fmt.Errorf("%w: --blkio-weight %d is out of range: 10 to 1000", ErrLimit, l.BlkioWeight)
	}
	if l.CPUSetCPUs != "" {
		if err := checkCPUList(l.CPUSetCPUs); err != nil {
			return err
		}
	}
	return nil
}

// checkCPUList checks a cpuset list: "0-3,5".
func checkCPUList(s string) error {
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err1 := strconv.ParseUint(lo, 10, 16)
		b, err2 := a, error(nil)
		if isRange {
			b, err2 = strconv.ParseUint(hi, 10, 16)
		}
		if err1 != nil || err2 != nil || b < a {
			return fmt.Errorf("%w: --cpuset-cpus %q: want CPU numbers and ranges, like 0-3,5", ErrLimit, s)
		}
	}
	return nil
}

// File is one value written to a cgroup interface file.
type File struct {
	// Name is the interface file: "memory.max".
	Name string `json:"name"`
	// Value is what is written.
	Value string `json:"value"`
	// Optional files are skipped when the kernel lacks them (swap
	// accounting off): the user did not ask for them by name.
	Optional bool `json:"optional,omitempty"`
	// Alt, when the kernel has it, is written instead of Name with
	// AltValue (io.bfq.weight for io.weight).
	Alt      string `json:"alt,omitempty"`
	AltValue string `json:"altValue,omitempty"`
}

// cpuPeriod is cpu.max's period, as Docker uses it: 100 ms.
const cpuPeriod = 100000

// Files turns the limits into the cgroup v2 files to write, in order.
// Devices are looked up by path for their numbers.
func (l Limits) Files() ([]File, error) {
	var fs []File
	if l.CPUSetCPUs != "" {
		fs = append(fs, File{Name: "cpuset.cpus", Value: l.CPUSetCPUs})
	}
	if l.Memory > 0 {
		fs = append(fs, File{Name: "memory.max", Value: strconv.FormatInt(l.Memory, 10)})
		switch {
		case l.MemorySwap == -1:
			fs = append(fs, File{Name: "memory.swap.max", Value: "max"})
		case l.MemorySwap > 0:
			fs = append(fs, File{Name: "memory.swap.max", Value: strconv.FormatInt(l.MemorySwap-l.Memory, 10)})
		default:
			// Docker's default: as much swap as memory.
			fs = append(fs, File{Name: "memory.swap.max", Value: strconv.FormatInt(l.Memory, 10), Optional: true})
		}
	}
	if l.MemoryReservation > 0 {
		fs = append(fs, File{Name: "memory.low", Value: strconv.FormatInt(l.MemoryReservation, 10)})
	}
	if l.NanoCPUs > 0 {
		quota := l.NanoCPUs * cpuPeriod / 1e9
		fs = append(fs, File{Name: "cpu.max", Value: fmt.Sprintf("%d %d", quota, cpuPeriod)})
	}
	if l.CPUShares > 0 {
		fs = append(fs, File{Name: "cpu.weight", Value: strconv.FormatUint(cpuWeight(l.CPUShares), 10)})
	}
	if l.PidsLimit > 0 {
		fs = append(fs, File{Name: "pids.max", Value: strconv.FormatInt(l.PidsLimit, 10)})
	}
	if l.BlkioWeight > 0 {
		fs = append(fs, File{
			Name: "io.weight", Value: "default " + strconv.FormatUint(ioWeight(l.BlkioWeight), 10),
			Alt: "io.bfq.weight", AltValue: strconv.FormatUint(uint64(l.BlkioWeight), 10),
		})
	}
	lines, err := ioMax(l.DeviceReadBps, l.DeviceWriteBps)
	if err != nil {
		return nil, err
	}
	for _, line := range lines {
		fs = append(fs, File{Name: "io.max", Value: line})
	}
	return fs, nil
}

// cpuWeight converts cgroup v1 shares (2..262144, default 1024) to
// cgroup v2's cpu.weight (1..10000, default 100), as runc does.
func cpuWeight(shares uint64) uint64 { return 1 + ((shares-2)*9999)/262142 }

// ioWeight converts a blkio weight (10..1000) to io.weight (1..10000),
// as runc does.
func ioWeight(w uint16) uint64 { return 1 + (uint64(w)-10)*9999/990 }

// ioMax is one io.max line per device: "MAJ:MIN rbps=N wbps=N".
func ioMax(read, write []DeviceRate) ([]string, error) {
	type rates struct{ r, w string }
	var order []string
	byDev := map[string]*rates{}
	add := func(d DeviceRate, isRead bool) error {
		dev, err := deviceNumber(d.Path)
		if err != nil {
			return err
		}
		if byDev[dev] == nil {
			byDev[dev] = &rates{}
			order = append(order, dev)
		}
		v := strconv.FormatUint(d.Rate, 10)
		if d.Rate == 0 {
			v = "max"
		}
		if isRead {
			byDev[dev].r = v
		} else {
			byDev[dev].w = v
		}
		return nil
	}
	for _, d := range read {
		if err := add(d, true); err != nil {
			return nil, err
		}
	}
	for _, d := range write {
		if err := add(d, false); err != nil {
			return nil, err
		}
	}
	var lines []string
	for _, dev := range order {
		line := dev
		if v := byDev[dev].r; v != "" {
			line += " rbps=" + v
		}
		if v := byDev[dev].w; v != "" {
			line += " wbps=" + v
		}
		lines = append(lines, line)
	}
	return lines, nil
}

// deviceNumber is a block device's "MAJ:MIN".
func deviceNumber(p string) (string, error) {
	var st unix.Stat_t
	if err := unix.Stat(p, &st); err != nil {
		return "", fmt.Errorf("%w: device %s: %w", ErrLimit, p, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFBLK {
		return "", fmt.Errorf("%w: %s is not a block device", ErrLimit, p)
	}
	return fmt.Sprintf("%d:%d", unix.Major(st.Rdev), unix.Minor(st.Rdev)), nil
}

// missing lists the controllers the requests need that are not in have,
// each with the flags that need it.
func missing(rs []request, have []string) (controllers []string, flags map[string][]string) {
	flags = map[string][]string{}
	for _, r := range rs {
		if slices.Contains(have, r.controller) {
			continue
		}
		if len(flags[r.controller]) == 0 {
			controllers = append(controllers, r.controller)
		}
		flags[r.controller] = append(flags[r.controller], r.flag)
	}
	return controllers, flags
}

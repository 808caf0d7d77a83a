package nook

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/nookrun/nook/cgroupdeleg"
	"github.com/nookrun/nook/run"
)

// runFlags are nook run's flags, with Docker's names and meanings.
type runFlags struct {
	rm          bool
	interactive bool
	tty         bool
	env         []string
	envFiles    []string
	workdir     string
	user        string
	entrypoint  string
	volumes     []string
	mounts      []string
	tmpfs       []string
	readOnly    bool
	hostname    string
	name        string
	net         networkFlags
	init        bool
	userns      string
	upperDir    string
	fuseDebug   bool
	pull        string
	res         resourceFlags
	detach      bool
	restart     string
	stopSignal  string
	stopTimeout int
	logOpts     []string
}

// resourceFlags are the cgroup flags, as Docker spells them; sizes and
// rates as strings, parsed by limits.
type resourceFlags struct {
	memory            string
	memoryReservation string
	memorySwap        string
	memoryRlimit      bool
	cpus              string
	cpuShares         int64
	cpusetCPUs        string
	pidsLimit         int64
	blkioWeight       uint16
	deviceReadBps     []string
	deviceWriteBps    []string
	cgroups           string
	cgroupParent      string
}

// The values of --cgroups.
const (
	cgroupsEnabled  = "enabled"
	cgroupsDisabled = "disabled"
)

// addResourceFlags adds the cgroup flags to nook run.
func addResourceFlags(c *cobra.Command, r *resourceFlags) {
	fl := c.Flags()
	fl.StringVarP(&r.memory, "memory", "m", "", "Memory limit (format: <number>[<unit>], unit b, k, m or g)")
	fl.StringVar(&r.memoryReservation, "memory-reservation", "", "Memory soft limit (memory.low)")
	fl.StringVar(&r.memorySwap, "memory-swap", "", "Memory plus swap limit: '-1' for unlimited swap (default: as much swap as --memory)")
	fl.BoolVar(&r.memoryRlimit, "memory-rlimit", false, "Without a delegated cgroup, apply --memory as the address-space rlimit (RLIMIT_AS) instead")
	fl.StringVar(&r.cpus, "cpus", "", "Number of CPUs (cpu.max), like 0.5 or 2")
	fl.Int64VarP(&r.cpuShares, "cpu-shares", "c", 0, "CPU shares, relative weight (cpu.weight)")
	fl.StringVar(&r.cpusetCPUs, "cpuset-cpus", "", "CPUs in which to allow execution (0-3, 0,1)")
	fl.Int64Var(&r.pidsLimit, "pids-limit", 0, "Tune container pids limit (set -1 for unlimited)")
	fl.Uint16Var(&r.blkioWeight, "blkio-weight", 0, "Block IO (relative weight), between 10 and 1000, or 0 to disable")
	fl.StringArrayVar(&r.deviceReadBps, "device-read-bps", nil, "Limit read rate (bytes per second) from a device (DEVICE:RATE[<unit>])")
	fl.StringArrayVar(&r.deviceWriteBps, "device-write-bps", nil, "Limit write rate (bytes per second) to a device (DEVICE:RATE[<unit>])")
	fl.StringVar(&r.cgroups, "cgroups", cgroupsEnabled, "Give the container a cgroup where one is delegated (enabled), or never (disabled)")
	fl.StringVar(&r.cgroupParent, "cgroup-parent", "", "Cgroup under which the container's cgroup is made (a path in the cgroup v2 hierarchy, default: the delegated one nook finds)")
	c.RegisterFlagCompletionFunc("cgroups", cobra.FixedCompletions([]string{cgroupsEnabled, cgroupsDisabled}, cobra.ShellCompDirectiveNoFileComp))
}

// limits parses the resource flags.
func (r *resourceFlags) limits() (cgroupdeleg.Limits, error) {
	var l cgroupdeleg.Limits
	var err error
	if l.Memory, err = flagBytes("--memory", r.memory); err != nil {
		return l, err
	}
	if l.MemoryReservation, err = flagBytes("--memory-reservation", r.memoryReservation); err != nil {
		return l, err
	}
	if r.memorySwap == "-1" {
		l.MemorySwap = -1
	} else if l.MemorySwap, err = flagBytes("--memory-swap", r.memorySwap); err != nil {
		return l, err
	}
	if r.cpus != "" {
		cpus, err := strconv.ParseFloat(r.cpus, 64)
		if err != nil || cpus < 0 {
			return l, fmt.Errorf("invalid --cpus %q: want a number of CPUs, like 0.5 or 2", r.cpus)
		}
		l.NanoCPUs = int64(cpus*1e9 + 0.5)
	}
	if r.cpuShares < 0 {
		return l, fmt.Errorf("invalid --cpu-shares %d: want 2 to 262144", r.cpuShares)
	}
	l.CPUShares = uint64(r.cpuShares)
	l.CPUSetCPUs = r.cpusetCPUs
	l.PidsLimit = r.pidsLimit
	l.BlkioWeight = r.blkioWeight
	if l.DeviceReadBps, err = deviceRates("--device-read-bps", r.deviceReadBps); err != nil {
		return l, err
	}
	if l.DeviceWriteBps, err = deviceRates("--device-write-bps", r.deviceWriteBps); err != nil {
		return l, err
	}
	return l, l.Validate()
}

// flagBytes parses a flag's size ("" is 0).
func flagBytes(flag, s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	n, err := parseBytes(s)
	if err != nil {
		return 0, fmt.Errorf("invalid %s %q: %w", flag, s, err)
	}
	return n, nil
}

// parseBytes reads a size as Docker does: a number with an optional
// binary unit b, k, m, g, t or p (kb, KiB... alike), "64m", "1.5g".
func parseBytes(s string) (int64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	t = strings.TrimSuffix(t, "b")
	t = strings.TrimSuffix(t, "i")
	mult := int64(1)
	if n := len(t); n > 0 {
		if i := strings.IndexByte("kmgtp", t[n-1]); i >= 0 {
			mult = int64(1) << (10 * (i + 1))
			t = strings.TrimSpace(t[:n-1])
		}
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || f < 0 || t == "" || strings.ContainsAny(t, "eEnN+-") {
		return 0, errors.New("want a size like 512k, 64m or 1g")
	}
	if f*float64(mult) > float64(1<<62) {
		return 0, errors.New("too large")
	}
	return int64(f * float64(mult)), nil
}

// deviceRates parses DEVICE:RATE specs.
func deviceRates(flag string, specs []string) ([]cgroupdeleg.DeviceRate, error) {
	var out []cgroupdeleg.DeviceRate
	for _, spec := range specs {
		i := strings.LastIndexByte(spec, ':')
		if i <= 0 {
			return nil, fmt.Errorf("invalid %s %q: want DEVICE:RATE, like /dev/sda:1mb", flag, spec)
		}
		rate, err := parseBytes(spec[i+1:])
		if err != nil {
			return nil, fmt.Errorf("invalid %s %q: rate %q: %w", flag, spec, spec[i+1:], err)
		}
		out = append(out, cgroupdeleg.DeviceRate{Path: spec[:i], Rate: uint64(rate)})
	}
	return out, nil
}

// addPullFlag adds --pull, when to pull the image (see ensureImage).
func addPullFlag(c *cobra.Command, f *runFlags) {
	c.Flags().StringVar(&f.pull, "pull", pullMissing, "Pull the image before running: always, missing (when the store lacks it) or never")
	c.RegisterFlagCompletionFunc("pull", cobra.FixedCompletions([]string{pullAlways, pullMissing, pullNever}, cobra.ShellCompDirectiveNoFileComp))
}

// environment merges the image's variables, --env-file and --env, later
// ones winning, as Docker does. A bare KEY takes the host's value, or is
// left out when the host has none.
func environment(image []string, files, flags []string) ([]string, error) {
	var order []string
	vals := map[string]string{}
	set := func(kv string) {
		k, v, ok := strings.Cut(kv, "=")
		if k == "" {
			return
		}
		if !ok {
			hv, found := os.LookupEnv(k)
			if !found {
				return
			}
			v = hv
		}
		if _, seen := vals[k]; !seen {
			order = append(order, k)
		}
		vals[k] = v
	}
	for _, kv := range image {
		set(kv)
	}
	for _, f := range files {
		lines, err := readEnvFile(f)
		if err != nil {
			return nil, err
		}
		for _, kv := range lines {
			set(kv)
		}
	}
	for _, kv := range flags {
		if strings.HasPrefix(kv, "=") {
			return nil, fmt.Errorf("invalid environment variable %q: the name is empty", kv)
		}
		set(kv)
	}
	out := make([]string, 0, len(order))
	for _, k := range order {
		out = append(out, k+"="+vals[k])
	}
	return out, nil
}

// readEnvFile reads Docker's env-file format: KEY=VALUE or KEY lines,
// # comments and blank lines ignored, no quoting.
func readEnvFile(p string) ([]string, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("read env file: %w", err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimLeft(sc.Text(), " \t")
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasPrefix(line, "=") || strings.ContainsAny(strings.SplitN(line, "=", 2)[0], " \t") {
			return nil, fmt.Errorf("env file %s line %d: invalid variable %q", p, n, line)
		}
		out = append(out, line)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read env file %s: %w", p, err)
	}
	return out, nil
}

// errVolume marks bad -v, --mount and --tmpfs specs.
var errVolume = errors.New("invalid volume")

// parseVolume parses -v HOST:CONTAINER[:OPTIONS].
func parseVolume(spec string) (run.Mount, error) {
	parts := strings.Split(spec, ":")
	if len(parts) < 2 || len(parts) > 3 {
		if len(parts) == 1 && strings.HasPrefix(spec, "/") {
			return run.Mount{}, fmt.Errorf("%w %q: anonymous volumes are not supported; give HOST-DIR:%s", errVolume, spec, spec)
		}
		return run.Mount{}, fmt.Errorf("%w %q: want HOST-PATH:CONTAINER-PATH[:ro]", errVolume, spec)
	}
	m := run.Mount{Type: "bind", Source: parts[0], Target: parts[1]}
	if len(parts) == 3 {
		for _, o := range strings.Split(parts[2], ",") {
			switch o {
			case "ro", "readonly":
				m.ReadOnly = true
			case "rw", "z", "Z", "rbind", "bind", "private", "rprivate", "":
			default:
				return run.Mount{}, fmt.Errorf("%w %q: unknown option %q (ro and rw are supported)", errVolume, spec, o)
			}
		}
	}
	return checkBind(m, spec)
}

// checkBind checks a bind mount's paths: the host path must be absolute
// and exist (Docker would make a named volume of a name and a directory of
// a missing path; both are errors here), the container path absolute.
func checkBind(m run.Mount, spec string) (run.Mount, error) {
	if !filepath.IsAbs(m.Source) {
		return m, fmt.Errorf("%w %q: host path %q is not absolute (named volumes are not supported; use $PWD/%s)", errVolume, spec, m.Source, m.Source)
	}
	if !filepath.IsAbs(m.Target) {
		return m, fmt.Errorf("%w %q: container path %q is not absolute", errVolume, spec, m.Target)
	}
	st, err := os.Stat(m.Source)
	if err != nil {
		return m, fmt.Errorf("%w %q: host path %s does not exist: create it first", errVolume, spec, m.Source)
	}
	m.Source = filepath.Clean(m.Source)
	m.Target = filepath.Clean(m.Target)
	m.File = !st.IsDir()
	return m, nil
}

// parseMount parses --mount type=bind|tmpfs,source=,target=,readonly,...
func parseMount(spec string) (run.Mount, error) {
	m := run.Mount{}
	var size, mode string
	for _, field := range strings.Split(spec, ",") {
		k, v, hasV := strings.Cut(field, "=")
		switch strings.ToLower(k) {
		case "type":
			m.Type = v
		case "source", "src":
			m.Source = v
		case "target", "destination", "dst":
			m.Target = v
		case "readonly", "ro":
			m.ReadOnly = !hasV || v == "true" || v == "1"
		case "tmpfs-size":
			size = v
		case "tmpfs-mode":
			mode = v
		case "bind-propagation", "consistency":
		default:
			return m, fmt.Errorf("%w %q: unknown field %q", errVolume, spec, k)
		}
	}
	switch m.Type {
	case "bind":
		return checkBind(m, spec)
	case "tmpfs":
		if m.Source != "" {
			return m, fmt.Errorf("%w %q: a tmpfs has no source", errVolume, spec)
		}
		if !filepath.IsAbs(m.Target) {
			return m, fmt.Errorf("%w %q: target %q is not absolute", errVolume, spec, m.Target)
		}
		var data []string
		if size != "" {
			data = append(data, "size="+size)
		}
		if mode != "" {
			data = append(data, "mode="+mode)
		}
		m.Data = strings.Join(data, ",")
		return m, nil
	case "":
		return m, fmt.Errorf("%w %q: type= is missing (bind or tmpfs)", errVolume, spec)
	}
	return m, fmt.Errorf("%w %q: type %q is not supported (bind or tmpfs)", errVolume, spec, m.Type)
}

// parseTmpfs parses --tmpfs PATH[:OPTIONS].
func parseTmpfs(spec string) (run.Mount, error) {
	target, opts, _ := strings.Cut(spec, ":")
	if !filepath.IsAbs(target) {
		return run.Mount{}, fmt.Errorf("%w %q: tmpfs path %q is not absolute", errVolume, spec, target)
	}
	m := run.Mount{Type: "tmpfs", Target: filepath.Clean(target)}
	var data []string
	for _, o := range strings.Split(opts, ",") {
		switch o {
		case "", "rw", "nosuid", "nodev", "noexec", "exec", "suid", "dev":
		case "ro":
			m.ReadOnly = true
		default:
			data = append(data, o)
		}
	}
	m.Data = strings.Join(data, ",")
	return m, nil
}

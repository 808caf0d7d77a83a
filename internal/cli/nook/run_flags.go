package nook

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

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
	network     string
	init        bool
	userns      string
	upperDir    string
	fuseDebug   bool
	pull        string
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

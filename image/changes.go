package image

import (
	"encoding/json"
	"fmt"
	"path"
	"strconv"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// ParseChanges turns docker import's --change instructions into config
// changes for ImportOptions. It knows the Dockerfile instructions that
// docker import accepts and that only change the config: CMD, ENTRYPOINT
// (JSON array or shell form, which runs /bin/sh -c), ENV (KEY=VALUE...
// with quotes, or the old KEY VALUE), LABEL (KEY=VALUE...), WORKDIR
// (relative to the previous one), USER, EXPOSE (PORT[/PROTO] or a range
// PORT-PORT[/PROTO]) and STOPSIGNAL.
func ParseChanges(changes []string) (v1.Config, error) {
	var c v1.Config
	for _, ch := range changes {
		if err := parseChange(&c, ch); err != nil {
			return v1.Config{}, fmt.Errorf("change %q: %w", ch, err)
		}
	}
	return c, nil
}

func parseChange(c *v1.Config, change string) error {
	s := strings.TrimSpace(change)
	instr, args := s, ""
	if i := strings.IndexAny(s, " \t"); i >= 0 {
		instr, args = s[:i], strings.TrimSpace(s[i+1:])
	}
	if args == "" && instr != "" {
		return fmt.Errorf("%s needs an argument", strings.ToUpper(instr))
	}
	switch strings.ToUpper(instr) {
	case "CMD":
		c.Cmd = commandForm(args)
	case "ENTRYPOINT":
		c.Entrypoint = commandForm(args)
	case "ENV":
		kvs, err := keyValues(args, true)
		if err != nil {
			return err
		}
		for _, kv := range kvs {
			c.Env = setEnv(c.Env, kv[0]+"="+kv[1])
		}
	case "LABEL":
		kvs, err := keyValues(args, false)
		if err != nil {
			return err
		}
		if c.Labels == nil {
			c.Labels = map[string]string{}
		}
		for _, kv := range kvs {
			c.Labels[kv[0]] = kv[1]
		}
	case "WORKDIR":
		c.WorkingDir = path.Join("/", c.WorkingDir, args)
	case "USER":
		c.User = args
	case "STOPSIGNAL":
		c.StopSignal = args
	case "EXPOSE":
		if c.ExposedPorts == nil {
			c.ExposedPorts = map[string]struct{}{}
		}
		for _, p := range strings.Fields(args) {
			ports, err := exposed(p)
			if err != nil {
				return err
			}
			for _, port := range ports {
				c.ExposedPorts[port] = struct{}{}
			}
		}
	default:
		return fmt.Errorf("unknown instruction %q: nook import knows CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, STOPSIGNAL, USER and WORKDIR", instr)
	}
	return nil
}

// commandForm reads CMD's and ENTRYPOINT's argument: a JSON array of
// strings (exec form), else a command for /bin/sh -c (shell form), as
// Docker falls back to it.
func commandForm(args string) []string {
	if strings.HasPrefix(args, "[") {
		var argv []string
		if err := json.Unmarshal([]byte(args), &argv); err == nil {
			return argv
		}
	}
	return []string{"/bin/sh", "-c", args}
}

// keyValues reads KEY=VALUE words (quotes and backslashes as a shell
// reads them); with legacy, "KEY VALUE..." (no "=" in the first word) is
// one pair whose value is the rest.
func keyValues(args string, legacy bool) ([][2]string, error) {
	words, err := splitWords(args)
	if err != nil {
		return nil, err
	}
	if legacy && len(words) > 0 && !strings.Contains(words[0], "=") {
		key, rest, _ := strings.Cut(args, " ")
		if len(words) < 2 {
			return nil, fmt.Errorf("%s has no value", key)
		}
		return [][2]string{{key, strings.TrimSpace(rest)}}, nil
	}
	var out [][2]string
	for _, w := range words {
		k, v, ok := strings.Cut(w, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("%q is not KEY=VALUE", w)
		}
		out = append(out, [2]string{k, v})
	}
	return out, nil
}

// splitWords splits s at unquoted blanks, removing quotes: '...' is
// literal, "..." and bare words take backslash escapes.
func splitWords(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case c == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, fmt.Errorf("unterminated ' in %q", s)
			}
			cur.WriteString(s[i+1 : i+1+j])
			i += j + 1
			inWord = true
		case c == '"':
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) {
					i++
				}
				cur.WriteByte(s[i])
			}
			if i >= len(s) {
				return nil, fmt.Errorf("unterminated \" in %q", s)
			}
			inWord = true
		case c == '\\' && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
			inWord = true
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

// exposed reads EXPOSE's PORT[/PROTO] or START-END[/PROTO] into the
// config's "PORT/PROTO" keys.
func exposed(p string) ([]string, error) {
	ports, proto, ok := strings.Cut(p, "/")
	if !ok {
		proto = "tcp"
	}
	proto = strings.ToLower(proto)
	if proto != "tcp" && proto != "udp" && proto != "sctp" {
		return nil, fmt.Errorf("port %q: protocol must be tcp, udp or sctp", p)
	}
	lo, hi, isRange := strings.Cut(ports, "-")
	if !isRange {
		hi = lo
	}
	a, err1 := strconv.Atoi(lo)
	b, err2 := strconv.Atoi(hi)
	if err1 != nil || err2 != nil || a < 1 || b > 65535 || a > b {
		return nil, fmt.Errorf("port %q: want a port 1-65535 or a range of them", p)
	}
	if b-a > 1<<12 {
		return nil, fmt.Errorf("port range %q is over %d ports", p, 1<<12)
	}
	var out []string
	for n := a; n <= b; n++ {
		out = append(out, strconv.Itoa(n)+"/"+proto)
	}
	return out, nil
}

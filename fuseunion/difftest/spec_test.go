package difftest

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// A line is one record of the text format shared by fixtures, op lists and
// regression files: a kind followed by key=value fields, e.g.
//
//	file p=d/a mode=0644 uid=1000 data="hello\n"
//	rename p=d q=e flags=noreplace
//
// Values are bare when they need no quoting and Go-quoted otherwise, so a
// sequence printed by a failing test can be pasted into testdata unchanged.
type line struct {
	kind   string
	fields map[string]string
}

func (l line) String() string {
	keys := make([]string, 0, len(l.fields))
	for k := range l.fields {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		return fieldOrder(keys[i]) < fieldOrder(keys[j]) || fieldOrder(keys[i]) == fieldOrder(keys[j]) && keys[i] < keys[j]
	})
	var b strings.Builder
	b.WriteString(l.kind)
	for _, k := range keys {
		b.WriteByte(' ')
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(quoteIfNeeded(l.fields[k]))
	}
	return b.String()
}

// fieldOrder puts the paths first so printed sequences read naturally.
func fieldOrder(k string) int {
	switch k {
	case "p":
		return 0
	case "q":
		return 1
	}
	return 2
}

func quoteIfNeeded(v string) string {
	if v == "" {
		return `""`
	}
	for _, r := range v {
		if r <= ' ' || r >= 0x7f || r == '"' || r == '\\' || r == '=' || r == '#' {
			return strconv.Quote(v)
		}
	}
	return v
}

// parseLines parses text into lines, skipping blank lines and # comments.
func parseLines(text string) ([]line, error) {
	var out []line
	for n, raw := range strings.Split(text, "\n") {
		s := strings.TrimSpace(raw)
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		l, err := parseLine(s)
		if err != nil {
			return nil, fmt.Errorf("line %d %q: %w", n+1, s, err)
		}
		out = append(out, l)
	}
	return out, nil
}

func parseLine(s string) (line, error) {
	l := line{fields: map[string]string{}}
	kind, rest, _ := strings.Cut(s, " ")
	l.kind = kind
	rest = strings.TrimSpace(rest)
	for rest != "" {
		key, after, ok := strings.Cut(rest, "=")
		if !ok || key == "" || strings.ContainsAny(key, " \t") {
			return line{}, fmt.Errorf("want key=value at %q", rest)
		}
		var val string
		if strings.HasPrefix(after, `"`) {
			q, err := strconv.QuotedPrefix(after)
			if err != nil {
				return line{}, fmt.Errorf("value of %s: %w", key, err)
			}
			val, _ = strconv.Unquote(q)
			after = after[len(q):]
		} else {
			end := strings.IndexAny(after, " \t")
			if end < 0 {
				end = len(after)
			}
			val, after = after[:end], after[end:]
		}
		if _, dup := l.fields[key]; dup {
			return line{}, fmt.Errorf("field %s given twice", key)
		}
		l.fields[key] = val
		rest = strings.TrimSpace(after)
	}
	return l, nil
}

// Typed accessors; each records the first error so callers check once.
type fieldReader struct {
	l   line
	err error
}

func (r *fieldReader) str(key, def string) string {
	if v, ok := r.l.fields[key]; ok {
		return v
	}
	return def
}

func (r *fieldReader) int64(key string, def int64, base int) int64 {
	v, ok := r.l.fields[key]
	if !ok {
		return def
	}
	n, err := strconv.ParseInt(v, base, 64)
	if err != nil && r.err == nil {
		r.err = fmt.Errorf("field %s: %w", key, err)
	}
	return n
}

func (r *fieldReader) known(keys ...string) {
	for k := range r.l.fields {
		found := false
		for _, want := range keys {
			if k == want {
				found = true
			}
		}
		if !found && r.err == nil {
			r.err = fmt.Errorf("%s: unknown field %q", r.l.kind, k)
		}
	}
}

// timespec is "SEC.FRACTION" in the text format, e.g. 1100000000.123456789.
func parseTimespec(s string) (sec, nsec int64, err error) {
	a, b, ok := strings.Cut(s, ".")
	if sec, err = strconv.ParseInt(a, 10, 64); err != nil {
		return 0, 0, fmt.Errorf("time %q: %w", s, err)
	}
	if ok {
		// A decimal fraction: ".5" is half a second.
		if len(b) == 0 || len(b) > 9 || strings.Trim(b, "0123456789") != "" {
			return 0, 0, fmt.Errorf("time %q: want SEC.FRACTION with up to 9 digits", s)
		}
		nsec, _ = strconv.ParseInt(b+strings.Repeat("0", 9-len(b)), 10, 64)
	}
	return sec, nsec, nil
}

func formatTimespec(sec, nsec int64) string { return fmt.Sprintf("%d.%09d", sec, nsec) }

package userns

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"strconv"
	"strings"
)

// idKind says whether a lookup is for uids or gids.
type idKind int

const (
	kindUID idKind = iota
	kindGID
)

func (k idKind) String() string { return [...]string{"uid", "gid"}[k] }

// file is the subordinate id file to read: the override, or /etc's.
func (k idKind) file(c Config) string {
	f, def := c.SubUIDFile, "/etc/subuid"
	if k == kindGID {
		f, def = c.SubGIDFile, "/etc/subgid"
	}
	if f == "" {
		return def
	}
	return f
}

// own is the user's own id of this kind, mapped on its own at 0.
func (k idKind) own(c Config) uint32 {
	if k == kindGID {
		return uint32(c.GID)
	}
	return uint32(c.UID)
}

// getSubIDsArgs are getsubids' arguments for user: -g lists gid ranges.
func (k idKind) getSubIDsArgs(user string) []string {
	if k == kindGID {
		return []string{"-g", user}
	}
	return []string{user}
}

// SubUIDs returns the user's subordinate uid ranges: from the subordinate
// uid file, where a line may name the user or its uid number (shadow's
// rule), or, when the file gives none, from getsubids when it is installed
// (LDAP/SSSD sites). A missing file means no ranges. The ranges come back
// sorted and merged, without the user's own uid (which is mapped on its
// own), clamped to what one kernel map can hold.
func SubUIDs(cfg Config) ([]Range, error) {
	cfg, err := cfg.resolve()
	if err != nil {
		return nil, err
	}
	l, err := lookupSubIDs(cfg, kindUID)
	return l.ranges, err
}

// SubGIDs is SubUIDs for gids (`getsubids -g`, /etc/subgid). Lines there
// name the user too, not a group.
func SubGIDs(cfg Config) ([]Range, error) {
	cfg, err := cfg.resolve()
	if err != nil {
		return nil, err
	}
	l, err := lookupSubIDs(cfg, kindGID)
	return l.ranges, err
}

// subIDLookup is what a lookup found and where it looked, for messages.
type subIDLookup struct {
	ranges []Range
	where  string // "in /etc/subuid" or "from getsubids or in /etc/subuid"
}

func lookupSubIDs(cfg Config, k idKind) (subIDLookup, error) {
	file, own := k.file(cfg), k.own(cfg)
	l := subIDLookup{where: "in " + file}
	// The file first: it is what getsubids reads too unless nsswitch
	// names another source, and reading it costs no exec (two getsubids
	// runs were a fifth of a container's start). Only a user the file
	// does not know is asked about through getsubids (LDAP/SSSD sites).
	data, err := os.ReadFile(file)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return l, fmt.Errorf("read subordinate %ss of %s: %w", k, cfg.who(), err)
	}
	if l.ranges = normalise(parseSubIDs(data, cfg.User, own), own); len(l.ranges) > 0 {
		return l, nil
	}
	tool, err := findGetSubIDs(cfg)
	if err != nil || tool == "" {
		return l, err
	}
	l.where = "from getsubids or in " + file
	rs, err := runGetSubIDs(tool, cfg.User, k)
	if err != nil {
		return l, err
	}
	l.ranges = normalise(rs, own)
	return l, nil
}

// findGetSubIDs returns the getsubids to run, or "" for none: disabled with
// "-", not installed, or no login name to ask it about.
func findGetSubIDs(cfg Config) (string, error) {
	switch {
	case cfg.GetSubIDs == "-" || cfg.User == "":
		return "", nil
	case cfg.GetSubIDs != "":
		if _, err := os.Stat(cfg.GetSubIDs); err != nil {
			return "", fmt.Errorf("find getsubids: %w", err)
		}
		return cfg.GetSubIDs, nil
	}
	path, err := exec.LookPath("getsubids")
	if err != nil {
		return "", nil // optional: most sites have only the files
	}
	return path, nil
}

// runGetSubIDs asks getsubids for the user's ranges. It exits 1 ("Error
// fetching ranges") for a user without any, which is no ranges, not an
// error: the files are read next.
func runGetSubIDs(tool, user string, k idKind) ([]Range, error) {
	args := k.getSubIDsArgs(user)
	out, err := exec.Command(tool, args...).Output()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("run %s %s: %w", tool, strings.Join(args, " "), err)
	}
	return parseGetSubIDs(out), nil
}

// parseGetSubIDs reads getsubids' output, one "INDEX: OWNER START COUNT"
// line a range (getsubids(1)). Other lines are skipped.
func parseGetSubIDs(out []byte) []Range {
	var rs []Range
	for line := range strings.SplitSeq(string(out), "\n") {
		index, rest, ok := strings.Cut(line, ":")
		f := strings.Fields(rest)
		if !ok || len(f) != 3 {
			continue
		}
		if _, err := strconv.ParseUint(strings.TrimSpace(index), 10, 32); err != nil {
			continue
		}
		start, err1 := strconv.ParseUint(f[1], 10, 32)
		count, err2 := strconv.ParseUint(f[2], 10, 32)
		if err1 != nil || err2 != nil || count > 1<<32-start {
			continue
		}
		rs = append(rs, Range{Start: uint32(start), Count: uint32(min(count, noID))})
	}
	return rs
}

// parseSubIDs returns the ranges an /etc/subuid or /etc/subgid gives the
// user: "OWNER:START:COUNT" lines whose owner is the login name or, as a
// decimal number, the uid (shadow matches both, for subgid too). Numbers
// are read as shadow reads them (C's strtoul base 0: decimal, 0x hex,
// leading-0 octal) within its limits. Lines shadow would not read
// (comments, blank lines, wrong field counts, bad numbers) are skipped,
// since newuidmap would not honour them either.
func parseSubIDs(data []byte, name string, uid uint32) []Range {
	var rs []Range
	for line := range strings.SplitSeq(string(data), "\n") {
		f := strings.Split(line, ":")
		if len(f) != 3 || f[0] == "" || !ownerIs(f[0], name, uid) {
			continue
		}
		start, ok1 := parseCUint(f[1])
		count, ok2 := parseCUint(f[2])
		if !ok1 || !ok2 || start > noID || count > min(1<<32-start, noID) {
			continue
		}
		rs = append(rs, Range{Start: uint32(start), Count: uint32(count)})
	}
	return rs
}

func ownerIs(owner, name string, uid uint32) bool {
	if name != "" && owner == name {
		return true
	}
	n, err := strconv.ParseUint(owner, 10, 32)
	return err == nil && uint32(n) == uid
}

// parseCUint parses s the way C's strtoul(s, &end, 0) does when the whole
// string must be consumed: leading white space, an optional '+', then
// decimal, 0x-prefixed hex or 0-prefixed octal digits.
func parseCUint(s string) (uint64, bool) {
	s = strings.TrimLeft(s, " \t\n\v\f\r")
	s = strings.TrimPrefix(s, "+")
	base := 10
	switch {
	case len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'):
		base, s = 16, s[2:]
	case len(s) > 1 && s[0] == '0':
		base, s = 8, s[1:]
	}
	// ParseUint with an explicit base takes digits only: no sign, no
	// prefix, no underscores.
	v, err := strconv.ParseUint(s, base, 64)
	return v, err == nil
}

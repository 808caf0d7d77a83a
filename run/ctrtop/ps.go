package ctrtop

import (
	"errors"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
)

// psTable runs the host's ps with args and keeps the rows of the
// container's processes, as docker top does.
func psTable(pid int, args []string) ([]string, [][]string, error) {
	if err := checkPSArgs(args); err != nil {
		return nil, nil, err
	}
	pids, err := Pids(pid)
	if err != nil {
		return nil, nil, err
	}
	out, err := runPS(args, pids)
	if err != nil {
		return nil, nil, err
	}
	header, rows, err := parsePS(out, pids)
	if err != nil {
		return nil, nil, fmt.Errorf("ps %s: %w", strings.Join(args, " "), err)
	}
	return header, rows, nil
}

// pidAlias matches an -o item that renames a column to PID, as
// "user=PID" in "-o user=PID" or "-o pid,user=PID".
var pidAlias = regexp.MustCompile(`(?:^|[\s,])-?o?([^\s,=]*)=\s*(PID\S*)`)

// checkPSArgs refuses options that title a column other than pid "PID":
// rows would be picked by that column's values (Docker refuses them too).
func checkPSArgs(args []string) error {
	for _, m := range pidAlias.FindAllStringSubmatch(strings.Join(args, " "), -1) {
		if m[1] != "pid" {
			return fmt.Errorf("ps option %s=%s: %w", m[1], m[2], ErrPIDAlias)
		}
	}
	return nil
}

// runPS runs ps with args, limited to pids with -q so it reads only those
// processes; ps refuses -q with some options (forest listings), and then
// runs again on every process, whose output parsePS filters anyway.
func runPS(args []string, pids []int) ([]byte, error) {
	ps, err := exec.LookPath("ps")
	if err != nil {
		return nil, fmt.Errorf("run ps with options needs ps on the host (install procps): %w", err)
	}
	q := make([]string, len(pids))
	for i, p := range pids {
		q[i] = strconv.Itoa(p)
	}
	out, err := exec.Command(ps, append(append([]string(nil), args...), "-q", strings.Join(q, ","))...).Output()
	if err == nil {
		return out, nil
	}
	out, err = exec.Command(ps, args...).Output()
	if err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) && len(exit.Stderr) > 0 {
			line, _, _ := strings.Cut(strings.TrimSpace(string(exit.Stderr)), "\n")
			return nil, fmt.Errorf("ps %s: %s", strings.Join(args, " "), line)
		}
		return nil, fmt.Errorf("ps %s: %w", strings.Join(args, " "), err)
	}
	return out, nil
}

// parsePS splits ps output into its header and the rows whose PID is in
// pids. Fields are separated by runs of ASCII blanks; a row with more
// fields than the header has its extra ones joined into the last column
// (the command's arguments). A row whose PID is "-" is a thread of the
// process above it (ps -m, -L) and goes with it.
func parsePS(out []byte, pids []int) ([]string, [][]string, error) {
	lines := strings.Split(string(out), "\n")
	header := fieldsASCII(lines[0])
	col := -1
	for i, h := range header {
		if h == "PID" {
			col = i
			break
		}
	}
	if col < 0 {
		return nil, nil, ErrNoPIDColumn
	}
	want := make(map[int]bool, len(pids))
	for _, p := range pids {
		want[p] = true
	}
	var rows [][]string
	keep := false
	for _, line := range lines[1:] {
		f := fieldsASCII(line)
		if len(f) <= col {
			continue
		}
		if f[col] == "-" {
			if keep {
				rows = append(rows, fit(f, len(header)))
			}
			continue
		}
		p, err := strconv.Atoi(f[col])
		if err != nil {
			return nil, nil, fmt.Errorf("PID column holds %q, not a pid", f[col])
		}
		keep = want[p]
		if keep {
			rows = append(rows, fit(f, len(header)))
		}
	}
	return header, rows, nil
}

// fit makes fields exactly n long: extra fields joined into the last,
// missing ones empty.
func fit(fields []string, n int) []string {
	if len(fields) > n {
		last := strings.Join(fields[n-1:], " ")
		return append(fields[:n-1:n-1], last)
	}
	for len(fields) < n {
		fields = append(fields, "")
	}
	return fields
}

// fieldsASCII splits s at runs of ASCII blanks only, so a command's
// non-ASCII spaces stay inside its field.
func fieldsASCII(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool {
		return r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\v' || r == '\f'
	})
}

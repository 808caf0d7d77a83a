package ctrtop

import (
	"fmt"
)

// Table lists the processes of the container whose first process has host
// pid pid. Without psArgs it gives Docker's default columns, computed from
// /proc; with them, the host's ps output for the container's processes.
// Rows are in ascending pid order for the default columns, in ps's order
// otherwise.
func Table(pid int, psArgs []string) (header []string, rows [][]string, err error) {
	if len(psArgs) > 0 {
		return psTable(pid, psArgs)
	}
	return defaultTable(pid, nil)
}

// defaultTable is Table without ps options; afterList is scanPids's hook.
func defaultTable(pid int, afterList func()) ([]string, [][]string, error) {
	s, err := newScanner(pid)
	if err != nil {
		return nil, nil, err
	}
	cols, err := newColumns()
	if err != nil {
		return nil, nil, fmt.Errorf("list processes of container pid %d: %w", pid, err)
	}
	var rows [][]string
	err = s.each(afterList, func(p, dir int) error {
		proc, err := readProcess(p, dir)
		if err != nil {
			return fmt.Errorf("read process %d: %w", p, err)
		}
		rows = append(rows, cols.row(proc))
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return append([]string(nil), defaultHeader...), rows, nil
}

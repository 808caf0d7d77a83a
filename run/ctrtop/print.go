package ctrtop

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// Print writes the table to w aligned as docker top prints it: tab-separated
// cells through a tabwriter with cells at least 20 wide and 3 spaces of
// padding.
func Print(w io.Writer, header []string, rows [][]string) error {
	tw := tabwriter.NewWriter(w, 20, 1, 3, ' ', 0)
	if _, err := fmt.Fprintln(tw, strings.Join(header, "\t")); err != nil {
		return fmt.Errorf("print process table: %w", err)
	}
	for _, r := range rows {
		if _, err := fmt.Fprintln(tw, strings.Join(r, "\t")); err != nil {
			return fmt.Errorf("print process table: %w", err)
		}
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("print process table: %w", err)
	}
	return nil
}

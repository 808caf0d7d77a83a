package nook

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// usage prints a command's usage as Docker's CLI does: "Options:" with
// flag types named like Docker's ("list" for repeatable flags) and boolean
// flags bare ("--rm", not "--rm[=true|false]").
func usage(c *cobra.Command) error {
	w := c.OutOrStderr()
	useLine := c.UseLine()
	if c.HasAvailableSubCommands() && !strings.Contains(c.Use, "COMMAND") {
		useLine = c.CommandPath() + " COMMAND"
	}
	fmt.Fprintf(w, "Usage:\n  %s\n", useLine)
	if len(c.Aliases) > 0 {
		fmt.Fprintf(w, "\nAliases:\n  %s\n", strings.Join(append([]string{c.Name()}, c.Aliases...), ", "))
	}
	if c.HasExample() {
		fmt.Fprintf(w, "\nExamples:\n%s\n", c.Example)
	}
	if c.HasAvailableSubCommands() {
		fmt.Fprintf(w, "\nCommands:\n")
		width := 0
		for _, s := range c.Commands() {
			if s.IsAvailableCommand() {
				width = max(width, len(s.Name()))
			}
		}
		for _, s := range c.Commands() {
			if s.IsAvailableCommand() {
				fmt.Fprintf(w, "  %-*s  %s\n", width, s.Name(), s.Short)
			}
		}
	}
	if c.HasAvailableLocalFlags() {
		fmt.Fprintf(w, "\nOptions:\n")
		writeFlags(w, c.LocalFlags())
	}
	if c.HasAvailableInheritedFlags() {
		fmt.Fprintf(w, "\nGlobal Options:\n")
		writeFlags(w, c.InheritedFlags())
	}
	if c.HasAvailableSubCommands() {
		fmt.Fprintf(w, "\nRun '%s COMMAND --help' for more information on a command.\n", c.CommandPath())
	}
	return nil
}

// writeFlags lists flags in two aligned columns.
func writeFlags(w io.Writer, fs *pflag.FlagSet) {
	type line struct{ left, right string }
	var lines []line
	width := 0
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Hidden {
			return
		}
		left := "      --" + f.Name
		if f.Shorthand != "" {
			left = "  -" + f.Shorthand + ", --" + f.Name
		}
		name, text := pflag.UnquoteUsage(f)
		switch t := f.Value.Type(); {
		case t == "bool":
			name = ""
		case strings.HasSuffix(t, "Array") || strings.HasSuffix(t, "Slice"):
			name = "list"
		}
		if name != "" {
			left += " " + name
		}
		if d := f.DefValue; d != "" && d != "false" && d != "[]" && d != "0" {
			text += fmt.Sprintf(" (default %q)", d)
		}
		width = max(width, len(left))
		lines = append(lines, line{left, text})
	})
	for _, l := range lines {
		fmt.Fprintf(w, "%-*s   %s\n", width, l.left, l.right)
	}
}

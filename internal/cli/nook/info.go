package nook

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/nookrun/nook/image"
	"github.com/nookrun/nook/internal/hostcheck"
)

func newInfoCmd() *cobra.Command {
	var format string
	c := &cobra.Command{
		Use:   "info [OPTIONS]",
		Short: "Show what nook needs from this machine, and how to fix what is missing",
		Long: `Info checks what nook needs on this machine: the kernel, user namespaces,
subordinate ids and newuidmap/newgidmap, /dev/fuse, cgroup v2 delegation, the
network helpers, the store and the runtime directory. Each check says ok, or
what is missing and the one-line fix. The last line says whether nook can run
containers here, or lists what stops it.

Info only reports: it exits 0 even when it finds problems.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if format != "text" && format != "json" {
				return usageErr(c, fmt.Errorf("unknown --format %q: use text or json", format))
			}
			cfg := hostcheck.CurrentUser()
			// A store that cannot be found is one of the report's
			// problems, not an error of nook info.
			cfg.StoreRoot, cfg.StoreRootErr = infoStoreRoot(c)
			report := hostcheck.Run(c.Context(), cfg)
			if format == "json" {
				enc := json.NewEncoder(c.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(report)
			}
			return writeInfo(c.OutOrStdout(), report)
		},
	}
	c.Flags().StringVarP(&format, "format", "f", "text", "output format: text or json")
	return c
}

// infoStoreRoot is the store the global --root flag names, else the
// default one.
func infoStoreRoot(c *cobra.Command) (string, error) {
	if f := c.Flag(rootFlag); f != nil && f.Value.String() != "" {
		return filepath.Abs(f.Value.String())
	}
	return image.DefaultRoot()
}

// writeInfo prints the report as sections of "key: value" lines, aligned
// within each section, a "fix:" line under each warning and problem, and
// the verdict last.
func writeInfo(w io.Writer, r hostcheck.Report) error {
	var b strings.Builder
	for i, s := range r.Sections {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(s.Name + ":\n")
		width := 0
		for _, c := range s.Checks {
			width = max(width, len(c.Key)+1)
		}
		for _, c := range s.Checks {
			value := c.Value
			switch c.Status {
			case hostcheck.OK:
				value = "ok: " + value
			case hostcheck.Warning:
				value = "WARNING: " + value
			case hostcheck.Problem:
				value = "PROBLEM: " + value
			}
			fmt.Fprintf(&b, "  %-*s %s\n", width, c.Key+":", value)
			if c.Fix != "" {
				fmt.Fprintf(&b, "  %-*s fix: %s\n", width, "", c.Fix)
			}
		}
	}
	b.WriteByte('\n')
	if r.CanRun {
		switch r.Warnings {
		case 0:
		case 1:
			b.WriteString("1 warning above: a feature will not work until it is fixed.\n")
		default:
			fmt.Fprintf(&b, "%d warnings above: features will not work until they are fixed.\n", r.Warnings)
		}
		b.WriteString("nook can run containers here\n")
	} else {
		b.WriteString("nook cannot run containers here:\n")
		for _, p := range r.Problems {
			b.WriteString("  - " + p + "\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

package nook

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/template"

	"github.com/spf13/cobra"
)

func newImageInspectCmd() *cobra.Command {
	var format string
	c := &cobra.Command{
		Use:   "inspect [OPTIONS] IMAGE [IMAGE...]",
		Short: "Show images in detail",
		Long: `Inspect prints images as a JSON array with docker image inspect's fields, or
each through the Go template --format gives ({{json .Config}} prints a
field as JSON).`,
		Example: `  nook image inspect busybox
  nook image inspect --format '{{.Architecture}} {{json .Config.Cmd}}' busybox`,
		Args:              cobra.MinimumNArgs(1),
		ValidArgsFunction: completeImageList,
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := openStore(cmd)
			if err != nil {
				return err
			}
			var out []any
			for _, ref := range args {
				in, err := s.Inspect(ref)
				if err != nil {
					return imageNotFound(ref, err)
				}
				out = append(out, in)
			}
			return printInspected(cmd, format, out)
		},
	}
	c.Flags().StringVarP(&format, "format", "f", "", "Print each image through this Go template")
	return c
}

// printInspected prints inspected objects as a JSON array, or each
// through the Go template format ({{json .X}} prints a field as JSON).
func printInspected(cmd *cobra.Command, format string, out []any) error {
	w := cmd.OutOrStdout()
	if format == "" {
		data, err := json.MarshalIndent(out, "", "    ")
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "%s\n", data)
		return nil
	}
	tmpl, err := template.New("format").Funcs(template.FuncMap{"json": jsonText}).Parse(format)
	if err != nil {
		return usageErr(cmd, fmt.Errorf("--format: %w", err))
	}
	for _, in := range out {
		var b strings.Builder
		if err := tmpl.Execute(&b, in); err != nil {
			return fmt.Errorf("--format: %w", err)
		}
		fmt.Fprintln(w, b.String())
	}
	return nil
}

// jsonText is the template function json.
func jsonText(v any) (string, error) {
	data, err := json.Marshal(v)
	return string(data), err
}

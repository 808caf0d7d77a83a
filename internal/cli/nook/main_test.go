package nook

import (
	"bytes"
	"strings"
	"testing"
)

func runCLI(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = Run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		code, out, errs := runCLI(args...)
		if code != ExitOK || !strings.HasPrefix(out, "nook version ") || errs != "" {
			t.Errorf("nook %q = %d, stdout %q, stderr %q: want 0 and \"nook version ...\"", args, code, out, errs)
		}
	}
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"--help"}, {}} {
		code, out, _ := runCLI(args...)
		if code != ExitOK || !strings.Contains(out, "Usage:") || !strings.Contains(out, "version") {
			t.Errorf("nook %q = %d, stdout %q: want 0 and usage listing the commands", args, code, out)
		}
	}
}

func TestErrorsExit125OnOneLine(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"frobnicate"}, `nook: unknown command "frobnicate" for "nook"`},
		{[]string{"--frob"}, "nook: unknown flag: --frob (see 'nook --help')"},
		{[]string{"version", "extra"}, `nook: unknown command "extra" for "nook version"`},
		{[]string{"layer", "index", "only-one"}, "nook: accepts 2 arg(s), received 1"},
		{[]string{"layer", "index", "/nonexistent/x.tar", "/tmp"}, "nook: index layer /nonexistent/x.tar: open /nonexistent/x.tar: no such file or directory"},
	} {
		code, out, errs := runCLI(tc.args...)
		if code != ExitError || out != "" || !strings.HasPrefix(errs, tc.want) || strings.Count(errs, "\n") != 1 {
			t.Errorf("nook %q = %d, stdout %q, stderr %q: want 125 and one line starting %q", tc.args, code, out, errs, tc.want)
		}
	}
}

func TestCompletion(t *testing.T) {
	for _, shell := range []string{"bash", "zsh", "fish"} {
		code, out, errs := runCLI("completion", shell)
		if code != ExitOK || !strings.Contains(out, "nook") || errs != "" {
			t.Errorf("nook completion %s = %d, %d bytes, stderr %q", shell, code, len(out), errs)
		}
	}
}

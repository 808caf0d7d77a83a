package nook

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/nookrun/nook/internal/hostcheck"
)

func TestInfoText(t *testing.T) {
	r := hostcheck.Report{Sections: []hostcheck.Section{
		{Name: "one", Checks: []hostcheck.Check{
			{Key: "k", Value: "fact", Status: hostcheck.Info},
			{Key: "longer key", Value: "fine", Status: hostcheck.OK},
		}},
		{Name: "two", Checks: []hostcheck.Check{
			{Key: "w", Value: "meh", Status: hostcheck.Warning, Fix: "do x"},
			{Key: "p", Value: "broken", Status: hostcheck.Problem, Fix: "do y"},
		}},
	}, Problems: []string{"two: p: broken (fix: do y)"}, Warnings: 1}
	var b bytes.Buffer
	if err := writeInfo(&b, r); err != nil {
		t.Fatal(err)
	}
	want := `one:
  k:          fact
  longer key: ok: fine

two:
  w: WARNING: meh
     fix: do x
  p: PROBLEM: broken
     fix: do y

nook cannot run containers here:
  - two: p: broken (fix: do y)
`
	if b.String() != want {
		t.Errorf("text:\n%s\nwant:\n%s", b.String(), want)
	}
	r.CanRun, r.Problems = true, nil
	b.Reset()
	if err := writeInfo(&b, r); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(b.String(), "\n1 warning above: a feature will not work until it is fixed.\nnook can run containers here\n") {
		t.Errorf("text ends:\n%s", b.String())
	}
}

// TestInfoCommand runs nook info on this machine: a report and exit 0,
// whatever it finds.
func TestInfoCommand(t *testing.T) {
	t.Setenv("XDG_DATA_HOME", t.TempDir())
	var out, errb bytes.Buffer
	if code := Run([]string{"info"}, &out, &errb); code != ExitOK || errb.Len() != 0 {
		t.Fatalf("nook info = %d, stderr %q", code, errb.String())
	}
	if !strings.Contains(out.String(), "\nstorage:\n") || !strings.Contains(out.String(), "nook c") {
		t.Errorf("nook info printed:\n%s", out.String())
	}
	out.Reset()
	if code := Run([]string{"info", "--format", "json"}, &out, &errb); code != ExitOK {
		t.Fatalf("nook info --format json = %d, stderr %q", code, errb.String())
	}
	var r hostcheck.Report
	if err := json.Unmarshal(out.Bytes(), &r); err != nil || len(r.Sections) == 0 {
		t.Fatalf("nook info --format json: %v\n%s", err, out.String())
	}
	if code := Run([]string{"info", "--format", "yaml"}, &out, &errb); code != ExitError ||
		errb.String() != "nook: unknown --format \"yaml\": use text or json (see 'nook info --help')\n" {
		t.Errorf("nook info --format yaml = %d, stderr %q", code, errb.String())
	}
}

package main

import (
	"context"
	"fmt"
	"io"
	"strings"
)

// tally counts tests over all packages. A package that fails as a whole
// (did not build, did not run or finish, exited non-zero with no failed
// test, left something behind) counts as one failed test, so that the
// summary can never read 0 failed when something went wrong.
type tally struct {
	passed, failed, skipped int
	failures                []string // one line each, for the end of the report
}

func (t *tally) fail(format string, args ...any) {
	t.failed++
	t.note(format, args...)
}

// note adds a failure line for a problem that a failed test already
// counts: the cause of that test's failure.
func (t *tally) note(format string, args ...any) {
	t.failures = append(t.failures, fmt.Sprintf(format, args...))
}

// report prints each package's go test output to w and returns the tally.
func report(ctx context.Context, w io.Writer, goCmd string, ran []testPkg, broken []buildFailure, res vmResults) (tally, error) {
	var t tally
	for _, b := range broken {
		fmt.Fprintf(w, "=== vmtest: %s: the test binary did not build\n%s\n", b.pkg.importPath, b.output)
		t.fail("%s: does not build with -tags vmtest", b.pkg.importPath)
	}
	if res.fatal != "" {
		t.fail("the VM could not be set up: %s", res.fatal)
	}
	for _, p := range ran {
		s := res.sections[p.name]
		if s == nil {
			t.fail("%s: did not run (the VM stopped before it)", p.importPath)
			continue
		}
		tr, err := readTests(ctx, goCmd, p.importPath, s.output)
		if err != nil {
			return t, err
		}
		status := "did not finish"
		if s.ended {
			status = fmt.Sprintf("exit status %d, %s s in the VM", s.rc, s.secs)
		}
		fmt.Fprintf(w, "=== vmtest: %s (%s)\n%s", p.importPath, status, tr.text)
		if tr.text != "" && !strings.HasSuffix(tr.text, "\n") {
			fmt.Fprintln(w)
		}
		t.passed += len(tr.passed)
		t.skipped += len(tr.skipped)
		for _, name := range tr.failed {
			t.fail("%s: %s failed", p.importPath, name)
		}
		for _, name := range tr.unfinished {
			t.fail("%s: %s did not finish", p.importPath, name)
		}
		switch {
		case !s.ended && len(tr.unfinished) > 0:
			t.note("%s: its test binary did not finish (the VM timed out or crashed; see the console log)", p.importPath)
		case !s.ended:
			t.fail("%s: its test binary did not finish (the VM timed out or crashed; see the console log)", p.importPath)
		case s.rc != 0 && len(tr.failed) == 0 && len(tr.unfinished) == 0:
			t.fail("%s: exit status %d with no failed test (TestMain, a panic outside a test, or a bad flag)", p.importPath, s.rc)
		}
		if s.leftovers != "" {
			t.fail("%s: left behind %s", p.importPath, s.leftovers)
		}
	}
	return t, nil
}

package main

import (
	"context"
	"os"
	"strings"
	"testing"
)

// The testdata files are results ports of real runs of a throw-away
// package (failtrial) whose tests pass, fail, skip, have subtests, print a
// fake "--- FAIL" line, leave a cgroup and a process behind, or hang, next
// to vmtest/smoke:
//
//	results-fail.txt         both packages ran to the end
//	results-testtimeout.txt  failtrial's hanging test hit -test.timeout
//	results-vmtimeout.txt    the VM was killed during the hanging test
var (
	failtrial = testPkg{importPath: "github.com/nookrun/nook/vmtest/failtrial", name: "vmtest-failtrial"}
	smoke     = testPkg{importPath: "github.com/nookrun/nook/vmtest/smoke", name: "vmtest-smoke"}
)

func readResults(t *testing.T, file string) vmResults {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return parseResults(data)
}

func reportOf(t *testing.T, res vmResults, ran ...testPkg) (tally, string) {
	t.Helper()
	var out strings.Builder
	tl, err := report(context.Background(), &out, "go", ran, nil, res)
	if err != nil {
		t.Fatal(err)
	}
	return tl, out.String()
}

func TestResultsOfACompleteRun(t *testing.T) {
	res := readResults(t, "testdata/results-fail.txt")
	if !res.done || res.fatal != "" {
		t.Errorf("done %v, fatal %q; want done, no fatal", res.done, res.fatal)
	}
	ft := res.sections["vmtest-failtrial"]
	if ft == nil || !ft.ended || ft.rc != 1 {
		t.Fatalf("failtrial's section: %+v", ft)
	}
	if !strings.Contains(ft.leftovers, "cgroup:/user.slice/user-1000/left-behind") || !strings.Contains(ft.leftovers, "(sleep)") {
		t.Errorf("leftovers %q lack the cgroup and the sleep", ft.leftovers)
	}
	tl, out := reportOf(t, res, failtrial, smoke)
	// Passed: TestPass, TestSub, TestSub/a, TestSub/b, TestLeave and the
	// smoke test; skipped: TestSkip, TestHang; failed: TestFail and the
	// leftovers. TestSub/b's printed "--- FAIL" is only output.
	if tl.passed != 6 || tl.failed != 2 || tl.skipped != 2 {
		t.Errorf("tally %d passed, %d failed, %d skipped; want 6, 2, 2\n%s", tl.passed, tl.failed, tl.skipped, out)
	}
	for _, want := range []string{
		"=== vmtest: github.com/nookrun/nook/vmtest/failtrial (exit status 1, 0.33 s in the VM)\n=== RUN   TestPass\n",
		"--- FAIL: TestFail (0.00s)\n",
		"=== vmtest: github.com/nookrun/nook/vmtest/smoke (exit status 0, 2.25 s in the VM)\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "\x16") || strings.Contains(out, "##vmtest##") {
		t.Errorf("report shows framing or markers:\n%q", out)
	}
}

func TestResultsOfATestTimeout(t *testing.T) {
	res := readResults(t, "testdata/results-testtimeout.txt")
	if ft := res.sections["vmtest-failtrial"]; ft == nil || !ft.ended || ft.rc != 2 {
		t.Fatalf("failtrial's section: %+v", ft)
	}
	tl, out := reportOf(t, res, failtrial, smoke)
	if tl.failed != 1 || len(tl.failures) != 1 || !strings.Contains(tl.failures[0], "TestHang did not finish") {
		t.Errorf("failures %q (counted %d); want TestHang's alone\n%s", tl.failures, tl.failed, out)
	}
	if !strings.Contains(out, "panic: test timed out after 5s") {
		t.Errorf("report lacks the panic:\n%s", out)
	}
}

func TestResultsOfAVMTimeout(t *testing.T) {
	res := readResults(t, "testdata/results-vmtimeout.txt")
	if res.done {
		t.Error("a killed VM's results read as done")
	}
	if ft := res.sections["vmtest-failtrial"]; ft == nil || ft.ended {
		t.Fatalf("failtrial's section: %+v", ft)
	}
	tl, out := reportOf(t, res, failtrial, smoke)
	// TestHang did not finish; smoke never ran.
	if tl.failed != 2 || tl.passed != 0 {
		t.Errorf("tally %d passed, %d failed: %q; want 0 and 2\n%s", tl.passed, tl.failed, tl.failures, out)
	}
	if !strings.Contains(out, "github.com/nookrun/nook/vmtest/failtrial (did not finish)\n=== RUN   TestHang\n") {
		t.Errorf("report lacks the unfinished package:\n%s", out)
	}
}

func TestResultsOfABrokenBuild(t *testing.T) {
	var out strings.Builder
	tl, err := report(context.Background(), &out, "go", nil,
		[]buildFailure{{pkg: failtrial, output: "broken_vmtest_test.go:5:28: cannot use \"x\""}}, vmResults{})
	if err != nil {
		t.Fatal(err)
	}
	if tl.failed != 1 || !strings.Contains(out.String(), "cannot use") {
		t.Errorf("a package that does not build: %d failed, report:\n%s", tl.failed, out.String())
	}
}

func TestResultsFatal(t *testing.T) {
	res := parseResults([]byte("##vmtest## fatal insmod brd failed\n"))
	if res.fatal != "insmod brd failed" || res.done {
		t.Errorf("fatal %q, done %v", res.fatal, res.done)
	}
}

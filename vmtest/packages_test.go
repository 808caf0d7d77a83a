package main

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestTaggedTests(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		name, constraint string
		tagged           bool
	}{
		{"plain", "", false},
		{"vm", "//go:build vmtest", true},
		{"vmlinux", "//go:build vmtest && linux", true},
		{"either", "//go:build vmtest || linux", false},
		{"notvm", "//go:build !vmtest", false},
		{"linux", "//go:build linux", false},
	} {
		src := c.constraint + "\n\n// Package p is a test file.\npackage p\n\n" +
			"func TestA(t *testing.T) {}\nfunc Testb(t *testing.T) {}\nfunc TestMain(m *testing.M) {}\n" +
			"func (x T) TestC(t *testing.T) {}\nfunc Test_D(t *testing.T) {}\n"
		path := filepath.Join(dir, c.name+"_test.go")
		if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		tagged, tests, err := taggedTests(path)
		if err != nil {
			t.Fatal(err)
		}
		if tagged != c.tagged {
			t.Errorf("%q: tagged %v, want %v", c.constraint, tagged, c.tagged)
		}
		if want := []string{"TestA", "Test_D"}; !slices.Equal(tests, want) {
			t.Errorf("%q: tests %q, want %q", c.constraint, tests, want)
		}
	}
}

func TestSelectPackages(t *testing.T) {
	ctx := context.Background()
	root, err := moduleRoot(ctx, "go")
	if err != nil {
		t.Fatal(err)
	}
	smokeRun := "^(TestRunInDelegatedCgroup)$"

	all, err := selectPackages(ctx, "go", root, nil, "", false)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, p := range all {
		if p.importPath == "github.com/nookrun/nook/vmtest" {
			t.Error("the harness, which has no vmtest-tagged tests, was selected")
		}
		if p.importPath == "github.com/nookrun/nook/vmtest/smoke" {
			found = true
			if p.rel != "vmtest/smoke" || p.name != "vmtest-smoke" || p.run != smokeRun {
				t.Errorf("smoke package: %+v", p)
			}
		}
	}
	if !found {
		t.Errorf("the default selection lacks vmtest/smoke: %+v", all)
	}

	// Named packages that do not exist, or have nothing tagged, are
	// skipped; -run replaces the tagged tests.
	named, err := selectPackages(ctx, "go", root, []string{"./vmtest/smoke", "./vmtest/not-yet", "./vmtest"}, "", false)
	if err != nil {
		t.Fatal(err)
	}
	if len(named) != 1 || named[0].run != smokeRun {
		t.Errorf("named selection: %+v", named)
	}
	withRun, err := selectPackages(ctx, "go", root, []string{"./vmtest"}, "TestSelectPackages", false)
	if err != nil {
		t.Fatal(err)
	}
	if len(withRun) != 1 || withRun[0].run != "TestSelectPackages" || withRun[0].rel != "vmtest" {
		t.Errorf("selection with -run: %+v", withRun)
	}
}

func TestTestdataFiles(t *testing.T) {
	files, err := testdataFiles(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"init.sh", "README.md", "testdata", "testdata/results-fail.txt"} {
		if !slices.Contains(files, want) {
			t.Errorf("testdataFiles lacks %s: %q", want, files)
		}
	}
	for _, f := range files {
		if filepath.Ext(f) == ".go" || f == "smoke" {
			t.Errorf("testdataFiles has %s", f)
		}
	}
	if files, err := testdataFiles("smoke"); err != nil || len(files) != 0 {
		t.Errorf("a package without test data: %q, %v", files, err)
	}
}

func TestIsTest(t *testing.T) {
	for name, want := range map[string]bool{
		"Test": true, "TestX": true, "Test_x": true, "TestÄ": true,
		"Testx": false, "TestMain": false, "Tes": false, "BenchmarkX": false,
	} {
		if isTest(name) != want {
			t.Errorf("isTest(%q) = %v", name, !want)
		}
	}
}

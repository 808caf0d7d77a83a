package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/build/constraint"
	"go/parser"
	"go/token"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// buildTag is the build constraint that puts a test file in the VM's
// payload and keeps it out of the host's go test ./...
const buildTag = "vmtest"

// testPkg is one package whose tests run in the VM.
type testPkg struct {
	importPath string
	dir        string // on this host
	rel        string // relative to the module root; its copy in the VM is /vmtest/src/REL
	name       string // of its test binary in the VM: rel with dashes for slashes
	run        string // its -test.run
}

// listedPkg is what go list -json says of a package.
type listedPkg struct {
	ImportPath   string
	Dir          string
	TestGoFiles  []string
	XTestGoFiles []string
	Error        *struct{ Err string }
}

// selectPackages lists the packages to test: those matching patterns
// (relative to the module's root), or every package of the module with
// vmtest-tagged tests. A package named explicitly that does not exist yet
// (or has nothing to run) is skipped with a notice, so the list can name
// packages before they land.
//
// Which tests a package runs depends on the VM's flavour: the Test
// functions of files named *systemd_vmtest_test.go need the systemd VM
// (-systemd) and run only there; the others only in the busybox VM.
func selectPackages(ctx context.Context, goCmd, modRoot string, patterns []string, run string, systemd bool) ([]testPkg, error) {
	explicit := len(patterns) > 0
	if !explicit {
		patterns = []string{"./..."}
	}
	out, err := commandIn(ctx, modRoot, goCmd, append([]string{"list", "-e", "-tags", buildTag,
		"-json=ImportPath,Dir,TestGoFiles,XTestGoFiles,Error"}, patterns...)...)
	if err != nil {
		return nil, fmt.Errorf("list packages %s: %w", strings.Join(patterns, " "), err)
	}
	var pkgs []testPkg
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var lp listedPkg
		if err := dec.Decode(&lp); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, fmt.Errorf("read go list's output: %w", err)
		}
		if lp.Error != nil {
			msg := lp.Error.Err
			if explicit && strings.Contains(msg, "directory not found") {
				notice("%s does not exist (yet): skipped", lp.ImportPath)
				continue
			}
			if explicit && strings.Contains(msg, "no Go files") {
				notice("%s has no Go files (yet): skipped", lp.ImportPath)
				continue
			}
			// A package that does not compile is reported when its
			// test binary is built.
		}
		p, ok, err := vmPackage(lp, modRoot, run, systemd)
		if err != nil {
			return nil, err
		}
		if !ok {
			if explicit {
				notice("%s: skipped: no vmtest-tagged Test functions (and no -run)", lp.ImportPath)
			}
			continue
		}
		pkgs = append(pkgs, p)
	}
	sort.Slice(pkgs, func(i, j int) bool { return pkgs[i].importPath < pkgs[j].importPath })
	return pkgs, nil
}

// vmPackage makes lp a testPkg, running the Test functions of its tagged
// test files, or run when set; ok is false when there is nothing to run.
func vmPackage(lp listedPkg, modRoot, run string, systemd bool) (p testPkg, ok bool, err error) {
	var tests []string
	for _, f := range append(append([]string{}, lp.TestGoFiles...), lp.XTestGoFiles...) {
		if isSystemdTestFile(f) != systemd {
			continue
		}
		path := filepath.Join(lp.Dir, f)
		tagged, names, err := taggedTests(path)
		if err != nil {
			return p, false, err
		}
		if tagged {
			tests = append(tests, names...)
		}
	}
	if systemd && run != "" {
		// The systemd VM runs only its own tests: those -run picks among
		// them (the part of -run before a "/" names top-level tests).
		re, err := regexp.Compile(strings.SplitN(run, "/", 2)[0])
		if err != nil {
			return p, false, fmt.Errorf("-run %q: %w", run, err)
		}
		tests = slices.DeleteFunc(tests, func(name string) bool { return !re.MatchString(name) })
		run = ""
	}
	if run == "" && len(tests) == 0 {
		return p, false, nil
	}
	if run == "" {
		sort.Strings(tests)
		run = "^(" + strings.Join(tests, "|") + ")$"
	}
	rel, err := filepath.Rel(modRoot, lp.Dir)
	if err != nil || !filepath.IsLocal(rel) && rel != "." {
		return p, false, fmt.Errorf("package %s is outside the module at %s", lp.ImportPath, modRoot)
	}
	rel = filepath.ToSlash(rel)
	name := strings.ReplaceAll(rel, "/", "-")
	if rel == "." {
		name = "root"
	}
	return testPkg{importPath: lp.ImportPath, dir: lp.Dir, rel: rel, name: name, run: run}, true, nil
}

// isSystemdTestFile reports whether the test file named name holds tests
// for the systemd VM.
func isSystemdTestFile(name string) bool {
	return name == "systemd_vmtest_test.go" || strings.HasSuffix(name, "_systemd_vmtest_test.go")
}

// taggedTests reports whether the Go file at path needs the vmtest tag to
// build, and the Test functions it defines.
func taggedTests(path string) (tagged bool, tests []string, err error) {
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ParseComments|parser.SkipObjectResolution)
	if err != nil {
		return false, nil, fmt.Errorf("parse %s: %w", path, err)
	}
	for _, group := range f.Comments {
		if group.Pos() > f.Package {
			break
		}
		for _, c := range group.List {
			if !constraint.IsGoBuild(c.Text) {
				continue
			}
			expr, err := constraint.Parse(c.Text)
			if err != nil {
				return false, nil, fmt.Errorf("parse %s's build constraint: %w", path, err)
			}
			// go list included the file with the tag; it is tagged when
			// it would be left out without it.
			tagged = !expr.Eval(func(tag string) bool { return tag != buildTag })
		}
	}
	for _, d := range f.Decls {
		if fn, ok := d.(*ast.FuncDecl); ok && fn.Recv == nil && isTest(fn.Name.Name) {
			tests = append(tests, fn.Name.Name)
		}
	}
	return tagged, tests, nil
}

// isTest is go test's rule: TestXxx where Xxx does not start with a lower
// case letter; TestMain is not a test.
func isTest(name string) bool {
	if !strings.HasPrefix(name, "Test") || name == "TestMain" {
		return false
	}
	if len(name) == len("Test") {
		return true
	}
	r, _ := utf8.DecodeRuneInString(name[len("Test"):])
	return !unicode.IsLower(r)
}

// testdataFiles lists what of a package's directory goes into the VM, so
// its test binary finds what go test would: the files directly in it and
// everything under testdata/. Paths are relative to dir.
func testdataFiles(dir string) ([]string, error) {
	var files []string
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if e.Type().IsRegular() && !strings.HasSuffix(e.Name(), ".go") {
			files = append(files, e.Name())
		}
	}
	err = filepath.WalkDir(filepath.Join(dir, "testdata"), func(p string, d os.DirEntry, err error) error {
		if errors.Is(err, os.ErrNotExist) && p == filepath.Join(dir, "testdata") {
			return filepath.SkipDir
		}
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		files = append(files, rel)
		return nil
	})
	return files, err
}

// validRun reports a -run that would not compile as a regexp now, rather
// than from inside the VM.
func validRun(run string) error {
	if run == "" {
		return nil
	}
	if _, err := regexp.Compile(run); err != nil {
		return fmt.Errorf("-run %q: %w", run, err)
	}
	return nil
}

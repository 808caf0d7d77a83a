package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"sort"
	"strconv"
	"strings"
)

// What came back over the results port (init.sh documents the markers).

const marker = "##vmtest## "

// section is one test binary's run in the VM.
type section struct {
	name   string
	output []byte // as the binary wrote it (-test.v=test2json)
	ended  bool   // its end marker came: rc and secs are set
	rc     int
	secs   string
	// leftovers are the cgroups and processes it left behind.
	leftovers string
}

// vmResults is the whole results file.
type vmResults struct {
	sections map[string]*section
	done     bool   // /init got to the end of the plan
	fatal    string // /init could not set the VM up
}

func parseResults(data []byte) vmResults {
	res := vmResults{sections: map[string]*section{}}
	for len(data) > 0 {
		line, rest, _ := bytes.Cut(data, []byte("\n"))
		data = rest
		text, ok := strings.CutPrefix(string(line), marker)
		if !ok {
			continue // nothing but markers is expected outside sections
		}
		verb, arg, _ := strings.Cut(text, " ")
		switch verb {
		case "begin":
			s := &section{name: arg}
			res.sections[arg] = s
			// The end marker follows a newline of its own, so the output
			// is exactly what is before it.
			end := []byte("\n" + marker + "end " + arg + " ")
			i := bytes.Index(data, end)
			if i < 0 {
				s.output = data
				return res
			}
			s.output = data[:i]
			endLine, after, _ := bytes.Cut(data[i+1:], []byte("\n"))
			data = after
			s.ended = true
			for _, f := range strings.Fields(string(endLine)) {
				if v, ok := strings.CutPrefix(f, "rc="); ok {
					s.rc, _ = strconv.Atoi(v)
				}
				if v, ok := strings.CutPrefix(f, "secs="); ok {
					s.secs = v
				}
			}
		case "leftover":
			name, what, _ := strings.Cut(arg, " ")
			if s := res.sections[name]; s != nil {
				s.leftovers = strings.TrimSpace(what)
			}
		case "done":
			res.done = true
		case "fatal":
			res.fatal = arg
		}
	}
	return res
}

// testRun is one package's tests as test2json read them.
type testRun struct {
	text       string   // the go test -v output
	passed     []string // test names, subtests included
	failed     []string
	skipped    []string
	unfinished []string // started and never ended: a crash or a timeout
}

// event is the part of test2json's output used here.
type event struct {
	Action string
	Test   string
	Output string
}

// readTests runs go tool test2json on a section's output: the test binary
// ran with -test.v=test2json, whose framing lets test2json tell the
// testing package's lines from what the tests print.
func readTests(ctx context.Context, goCmd, importPath string, output []byte) (testRun, error) {
	var tr testRun
	cmd := exec.CommandContext(ctx, goCmd, "tool", "test2json", "-p", importPath)
	cmd.Stdin = bytes.NewReader(output)
	out, err := cmd.Output()
	if err != nil {
		return tr, fmt.Errorf("go tool test2json for %s: %w", importPath, err)
	}
	var text strings.Builder
	started := map[string]bool{}
	ended := map[string]string{}
	s := bufio.NewScanner(bytes.NewReader(out))
	s.Buffer(make([]byte, 64<<10), 16<<20)
	for s.Scan() {
		var e event
		if err := json.Unmarshal(s.Bytes(), &e); err != nil {
			return tr, fmt.Errorf("read test2json's output for %s: %w", importPath, err)
		}
		text.WriteString(e.Output)
		if e.Test == "" {
			continue
		}
		switch e.Action {
		case "run":
			started[e.Test] = true
		case "pass", "fail", "skip":
			ended[e.Test] = e.Action
		}
	}
	tr.text = text.String()
	for name, action := range ended {
		switch action {
		case "pass":
			tr.passed = append(tr.passed, name)
		case "fail":
			tr.failed = append(tr.failed, name)
		case "skip":
			tr.skipped = append(tr.skipped, name)
		}
	}
	for name := range started {
		if _, ok := ended[name]; !ok {
			tr.unfinished = append(tr.unfinished, name)
		}
	}
	for _, l := range [][]string{tr.passed, tr.failed, tr.skipped, tr.unfinished} {
		sort.Strings(l)
	}
	return tr, nil
}

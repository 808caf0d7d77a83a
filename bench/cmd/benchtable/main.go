// Command benchtable reads the output of the nook benchmarks (go test
// -bench, any number of -count runs) on standard input and writes
// docs/BENCHMARKS.md to standard output: per group of benchmarks, one row
// per workload, the median of each peer, and ratio columns marked against
// the issues' targets. With -keep, the hand-written notes at the end of the
// previous report (from a line starting "## Notes (by hand") are carried
// over; write to a temporary file and rename it, since a shell redirection
// onto the report itself empties it before benchtable can read it.
//
//	for i in 1 2 3 4 5; do
//	  go test -run '^$' -bench . -benchtime 1x -count 1 -timeout 60m ./bench/
//	done | tee bench.out
//	go run ./bench/cmd/benchtable -keep docs/BENCHMARKS.md < bench.out > docs/BENCHMARKS.md.tmp
//	mv docs/BENCHMARKS.md.tmp docs/BENCHMARKS.md
package main

import (
	"flag"
	"fmt"
	"os"
)

// defaultCommand is what make bench runs; -command overrides it when the
// table comes from another command line. Five separate runs rather than
// -count 5: go test repeats each benchmark -count times in a row, so one
// run would measure a workload's peers minutes apart; separate runs take
// turns between peers and spread any background load over all of them.
const defaultCommand = `make bench
# which runs:
for i in 1 2 3 4 5; do
  go test -run '^$' -bench . -benchtime 1x -count 1 -timeout 60m ./bench/
done | tee bench.out
go run ./bench/cmd/benchtable -keep docs/BENCHMARKS.md < bench.out > docs/BENCHMARKS.md.tmp
mv docs/BENCHMARKS.md.tmp docs/BENCHMARKS.md`

func main() {
	command := flag.String("command", defaultCommand, "the command line that produced the input, shown in the report")
	keep := flag.String("keep", "", "the previous report, whose hand-written notes section is copied to the end of the new one")
	flag.Parse()
	var notes string
	if *keep != "" {
		var err error
		if notes, err = handNotes(*keep); err != nil {
			fmt.Fprintf(os.Stderr, "benchtable: %v\n", err)
			os.Exit(1)
		}
	}
	res, err := parse(os.Stdin)
	if err != nil {
		fmt.Fprintf(os.Stderr, "benchtable: %v\n", err)
		os.Exit(1)
	}
	if len(res.samples) == 0 && len(res.notes) == 0 && len(res.general) == 0 {
		fmt.Fprintln(os.Stderr, "benchtable: no benchmark results on standard input")
		os.Exit(1)
	}
	render(os.Stdout, res, *command)
	if notes != "" {
		fmt.Fprintf(os.Stdout, "\n%s", notes)
	}
}

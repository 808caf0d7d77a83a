// Command benchtable reads the output of the nook benchmarks (go test
// -bench, any number of -count runs) on standard input and writes
// docs/BENCHMARKS.md to standard output: per group of benchmarks, one row
// per workload, the median of each peer, and ratio columns marked against
// issue 2's targets.
//
//	for i in 1 2 3 4 5; do
//	  go test -run '^$' -bench . -benchtime 1x -count 1 -timeout 60m ./bench/
//	done | tee bench.out
//	go run ./bench/cmd/benchtable < bench.out > docs/BENCHMARKS.md
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
go run ./bench/cmd/benchtable < bench.out > docs/BENCHMARKS.md`

func main() {
	command := flag.String("command", defaultCommand, "the command line that produced the input, shown in the report")
	flag.Parse()
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
}

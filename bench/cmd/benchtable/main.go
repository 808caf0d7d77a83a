// Command benchtable reads the output of the nook benchmarks (go test
// -bench, any number of -count runs) on standard input and writes
// docs/BENCHMARKS.md to standard output: per group of benchmarks, one row
// per workload, the median of each peer, and ratio columns marked against
// issue 2's targets.
//
//	go test -run '^$' -bench . -benchtime 1x -count 5 -timeout 60m ./bench/ | tee bench.out
//	go run ./bench/cmd/benchtable < bench.out > docs/BENCHMARKS.md
package main

import (
	"flag"
	"fmt"
	"os"
)

// defaultCommand is what make bench runs; -command overrides it when the
// table comes from another command line.
const defaultCommand = `make bench
# which runs:
go test -run '^$' -bench . -benchtime 1x -count 5 -timeout 60m ./bench/ | tee bench.out
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

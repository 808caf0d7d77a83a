package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// handNotesHeading starts the section of docs/BENCHMARKS.md written by
// hand: what was found by measuring outside make bench, which no table
// shows. benchtable -keep carries it over from the report it replaces, so
// regenerating the tables never loses it.
const handNotesHeading = "## Notes (by hand"

// handNotes returns the hand-written section of the report at path, from
// its heading to the end of the file; "" when there is no such file or no
// such section.
func handNotes(path string) (string, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read the previous report for its notes: %w", err)
	}
	text := string(b)
	for i := 0; i < len(text); {
		if strings.HasPrefix(text[i:], handNotesHeading) {
			return strings.TrimRight(text[i:], "\n") + "\n", nil
		}
		next := strings.IndexByte(text[i:], '\n')
		if next < 0 {
			break
		}
		i += next + 1
	}
	return "", nil
}

package nook

import (
	"bufio"
	"os"
	"runtime/debug"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// trimMonitor lowers an idle monitor's footprint once its container runs.
// Starting touched most of nook's read-only code and data (package
// initialisation, the CLI, the start protocol) that serving the union no
// longer needs: those pages are the binary's, in the page cache and shared
// by every nook, and dropping this process's mappings of them (they fault
// back in from the page cache when used) keeps them out of its RSS. Only
// mappings without write permission are dropped: their pages are the
// file's, never modified. The heap left from starting goes back too.
func trimMonitor() {
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		return
	}
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 6 || fields[5] != exe || strings.Contains(fields[1], "w") {
			continue
		}
		lo, hi, ok := strings.Cut(fields[0], "-")
		if !ok {
			continue
		}
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		if err1 != nil || err2 != nil || end <= start {
			continue
		}
		unix.Syscall(unix.SYS_MADVISE, uintptr(start), uintptr(end-start), unix.MADV_DONTNEED)
	}
	debug.FreeOSMemory()
}

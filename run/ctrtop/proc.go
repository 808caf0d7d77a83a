package ctrtop

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// process is what the default table shows of one process, as read from
// its /proc entry.
type process struct {
	pid, ppid int
	comm      string
	state     byte
	euid      uint32
	ttyNr     uint64
	// ticks is utime+stime and start the start time after boot, both in
	// clock ticks.
	ticks, start uint64
	// args is /proc/PID/cmdline: NUL-separated, empty for kernel threads
	// and zombies.
	args []byte
}

// readProcess reads the process whose /proc directory is open as dir.
func readProcess(pid, dir int) (*process, error) {
	p := &process{pid: pid}
	stat, err := readAt(dir, "stat")
	if err != nil {
		return nil, err
	}
	if err := p.parseStat(stat); err != nil {
		return nil, fmt.Errorf("parse /proc/%d/stat: %w", pid, err)
	}
	status, err := readAt(dir, "status")
	if err != nil {
		return nil, err
	}
	if p.euid, err = effectiveUID(status); err != nil {
		return nil, fmt.Errorf("parse /proc/%d/status: %w", pid, err)
	}
	if p.args, err = readAt(dir, "cmdline"); err != nil {
		return nil, err
	}
	return p, nil
}

// parseStat takes the fields of /proc/PID/stat that the table shows. The
// command name is between the first "(" and the last ")", since it may hold
// both and spaces.
func (p *process) parseStat(b []byte) error {
	open, end := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
	if open < 0 || end < open {
		return fmt.Errorf("no command name in %q", b)
	}
	p.comm = string(b[open+1 : end])
	// Fields after the name, numbered from 3 as in proc(5).
	f := strings.Fields(string(b[end+1:]))
	if len(f) < 20 || len(f[0]) != 1 {
		return fmt.Errorf("too few fields in %q", b)
	}
	p.state = f[0][0]
	// num parses field n (numbered as in proc(5)). tty_nr is printed as a
	// signed int, so it is parsed as one and its 32 bits kept.
	num := func(n int) (uint64, error) {
		v, err := strconv.ParseInt(f[n-3], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("field %d: %w", n, err)
		}
		if n == 7 {
			return uint64(uint32(v)), nil
		}
		return uint64(v), nil
	}
	var vals [4]uint64
	for i, n := range []int{4, 7, 14, 15} {
		v, err := num(n)
		if err != nil {
			return err
		}
		vals[i] = v
	}
	start, err := strconv.ParseUint(f[22-3], 10, 64)
	if err != nil {
		return fmt.Errorf("field 22: %w", err)
	}
	p.ppid, p.ttyNr, p.ticks, p.start = int(vals[0]), vals[1], vals[2]+vals[3], start
	return nil
}

// effectiveUID takes the second id of the Uid line of /proc/PID/status.
func effectiveUID(status []byte) (uint32, error) {
	for _, line := range strings.Split(string(status), "\n") {
		rest, ok := strings.CutPrefix(line, "Uid:")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) < 2 {
			break
		}
		v, err := strconv.ParseUint(f[1], 10, 32)
		if err != nil {
			return 0, fmt.Errorf("uid %q: %w", f[1], err)
		}
		return uint32(v), nil
	}
	return 0, fmt.Errorf("no Uid line")
}

// readAt reads the file name of the /proc directory fd dir. Reads of an
// exited process fail with ESRCH or ENOENT, which callers treat as gone.
func readAt(dir int, name string) ([]byte, error) {
	fd, err := unix.Openat(dir, name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: name, Err: err}
	}
	f := os.NewFile(uintptr(fd), name)
	defer f.Close()
	return io.ReadAll(f)
}

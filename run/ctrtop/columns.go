package ctrtop

import (
	"fmt"
	"os"
	"os/user"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/sys/unix"
)

// defaultHeader is Docker's default, the columns of `ps -ef`.
var defaultHeader = []string{"UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"}

// atClkTck is the auxiliary vector entry that carries sysconf(_SC_CLK_TCK).
const atClkTck = 17

// columns turns processes into rows of the default table. It holds what
// every row shares, read once per table: the tick rate, the boot time and
// uptime, the time now and the user names already looked up.
type columns struct {
	hz     uint64
	boot   time.Time
	uptime float64
	now    time.Time
	users  map[uint32]string
}

func newColumns() (*columns, error) {
	c := &columns{hz: clockTicks(), now: time.Now(), users: map[uint32]string{}}
	up, err := os.ReadFile(procRoot + "/uptime")
	if err != nil {
		return nil, fmt.Errorf("read uptime: %w", err)
	}
	f := strings.Fields(string(up))
	if len(f) == 0 {
		return nil, fmt.Errorf("read uptime: empty %s/uptime", procRoot)
	}
	if c.uptime, err = strconv.ParseFloat(f[0], 64); err != nil {
		return nil, fmt.Errorf("read uptime: %w", err)
	}
	if c.boot, err = bootTime(); err != nil {
		return nil, err
	}
	return c, nil
}

// clockTicks is the kernel's USER_HZ, the unit of /proc's times, as the C
// library's sysconf finds it; 100 if the auxiliary vector lacks it.
func clockTicks() uint64 {
	if auxv, err := unix.Auxv(); err == nil {
		for _, kv := range auxv {
			if kv[0] == atClkTck && kv[1] > 0 {
				return uint64(kv[1])
			}
		}
	}
	return 100
}

// bootTime is the btime line of /proc/stat, which is also what ps adds
// start times to.
func bootTime() (time.Time, error) {
	b, err := os.ReadFile(procRoot + "/stat")
	if err != nil {
		return time.Time{}, fmt.Errorf("read boot time: %w", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "btime "); ok {
			s, err := strconv.ParseInt(strings.TrimSpace(rest), 10, 64)
			if err != nil {
				return time.Time{}, fmt.Errorf("read boot time: %w", err)
			}
			return time.Unix(s, 0), nil
		}
	}
	return time.Time{}, fmt.Errorf("read boot time: no btime in %s/stat", procRoot)
}

// row is the default table's row for p.
func (c *columns) row(p *process) []string {
	return []string{
		c.user(p.euid),
		strconv.Itoa(p.pid),
		strconv.Itoa(p.ppid),
		strconv.FormatUint(c.cpuPercent(p), 10),
		c.startTime(p),
		ttyName(p.ttyNr),
		cpuTime(p.ticks / c.hz),
		command(p),
	}
}

// user is the host's name for uid, or the number when it has none.
func (c *columns) user(uid uint32) string {
	if name, ok := c.users[uid]; ok {
		return name
	}
	name := strconv.FormatUint(uint64(uid), 10)
	if u, err := user.LookupId(name); err == nil && u.Username != "" {
		name = u.Username
	}
	c.users[uid] = name
	return name
}

// cpuPercent is ps's C: whole percent-seconds of CPU over the seconds the
// process has lived, at most 99.
func (c *columns) cpuPercent(p *process) uint64 {
	elapsed := c.uptime - float64(p.start)/float64(c.hz)
	if elapsed <= 0 {
		return 0
	}
	pc := uint64(float64(p.ticks*100/c.hz) / elapsed)
	return min(pc, 99)
}

// startTime is ps's STIME: HH:MM for a process started today, MonDD
// earlier this year, the year before that.
func (c *columns) startTime(p *process) string {
	t := c.boot.Add(time.Duration(p.start/c.hz) * time.Second).Local()
	now := c.now.Local()
	switch {
	case t.Year() != now.Year():
		return t.Format("2006")
	case t.YearDay() != now.YearDay():
		return t.Format("Jan02")
	default:
		return t.Format("15:04")
	}
}

// cpuTime is ps's TIME: [DD-]HH:MM:SS of seconds.
func cpuTime(seconds uint64) string {
	s, m, h, d := seconds%60, seconds/60%60, seconds/3600%24, seconds/86400
	if d > 0 {
		return fmt.Sprintf("%d-%02d:%02d:%02d", d, h, m, s)
	}
	return fmt.Sprintf("%02d:%02d:%02d", h, m, s)
}

// ttyName names the terminal device number nr (tty_nr of /proc/PID/stat)
// as ps does. A container's terminal is a pty of its own devpts, which has
// no node under the host's /dev/pts, so names come from the device numbers
// (devices.txt), not from looking the device up in /dev.
func ttyName(nr uint64) string {
	if nr == 0 {
		return "?"
	}
	maj, minor := unix.Major(nr), unix.Minor(nr)
	switch {
	case maj >= 136 && maj <= 143:
		return fmt.Sprintf("pts/%d", (maj-136)*256+minor)
	case maj == 4 && minor < 64:
		return fmt.Sprintf("tty%d", minor)
	case maj == 4 && minor < 256:
		return fmt.Sprintf("ttyS%d", minor-64)
	case maj == 5 && minor == 1:
		return "console"
	case maj == 5 && minor == 0:
		return "tty"
	}
	return fmt.Sprintf("%d:%d", maj, minor)
}

// command is ps's CMD (args): the arguments joined by spaces, as ps shows
// them, or "[comm]" when there are none (kernel threads, zombies), with
// " <defunct>" for a zombie.
func command(p *process) string {
	args := strings.TrimSuffix(string(p.args), "\x00")
	if args == "" {
		s := "[" + printable(p.comm) + "]"
		if p.state == 'Z' {
			s += " <defunct>"
		}
		return s
	}
	return printable(strings.ReplaceAll(args, "\x00", " "))
}

// printable shows s as ps does in a UTF-8 locale: a newline as a space,
// any other control character or invalid UTF-8 byte as "?".
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n':
			return ' '
		case r == utf8.RuneError || !unicode.IsPrint(r):
			return '?'
		}
		return r
	}, s)
}

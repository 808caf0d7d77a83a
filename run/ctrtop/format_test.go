package ctrtop

import (
	"bytes"
	"errors"
	"slices"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestParseStat(t *testing.T) {
	// A command name may hold spaces and parentheses; tty_nr 34816 is
	// pts/0 (136:0).
	line := "4242 (a) (b c) S 4000 4242 4242 34816 4242 4194560 100 0 0 0 250 120 0 0 20 0 1 0 98765 1000 10 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n"
	var p process
	if err := p.parseStat([]byte(line)); err != nil {
		t.Fatal(err)
	}
	want := process{comm: "a) (b c", state: 'S', ppid: 4000, ttyNr: 34816, ticks: 370, start: 98765}
	if p.comm != want.comm || p.state != want.state || p.ppid != want.ppid || p.ttyNr != want.ttyNr || p.ticks != want.ticks || p.start != want.start {
		t.Errorf("parsed %+v, want %+v", p, want)
	}
	if ttyName(p.ttyNr) != "pts/0" {
		t.Errorf("tty %d is %q, want pts/0", p.ttyNr, ttyName(p.ttyNr))
	}
	if err := new(process).parseStat([]byte("1 (x) S 0")); err == nil {
		t.Error("a short stat line parsed")
	}
}

func TestEffectiveUID(t *testing.T) {
	uid, err := effectiveUID([]byte("Name:\tsh\nUid:\t1001\t100000\t1001\t1001\nGid:\t0\t0\t0\t0\n"))
	if err != nil || uid != 100000 {
		t.Errorf("effective uid %d, %v; want 100000", uid, err)
	}
	if _, err := effectiveUID([]byte("Name:\tsh\n")); err == nil {
		t.Error("status without Uid parsed")
	}
}

func TestCPUTime(t *testing.T) {
	for secs, want := range map[uint64]string{
		0: "00:00:00", 59: "00:00:59", 3661: "01:01:01", 86399: "23:59:59",
		86400: "1-00:00:00", 3*86400 + 7322: "3-02:02:02",
	} {
		if got := cpuTime(secs); got != want {
			t.Errorf("cpuTime(%d) = %q, want %q", secs, got, want)
		}
	}
}

func TestTTYName(t *testing.T) {
	for dev, want := range map[uint64]string{
		0:                    "?",
		unix.Mkdev(136, 3):   "pts/3",
		unix.Mkdev(136, 300): "pts/300",
		unix.Mkdev(137, 1):   "pts/257",
		unix.Mkdev(4, 1):     "tty1",
		unix.Mkdev(4, 64):    "ttyS0",
		unix.Mkdev(5, 1):     "console",
		unix.Mkdev(188, 0):   "188:0",
	} {
		// tty_nr holds the kernel's 32-bit encoding, which Mkdev's 64-bit
		// one equals for these numbers.
		if got := ttyName(dev); got != want {
			t.Errorf("ttyName(%d:%d) = %q, want %q", unix.Major(dev), unix.Minor(dev), got, want)
		}
	}
}

func TestStartTimeAndCPU(t *testing.T) {
	now := time.Date(2024, 6, 6, 15, 4, 0, 0, time.Local)
	c := &columns{hz: 100, boot: now.Add(-400 * 24 * time.Hour), now: now, uptime: 400 * 86400}
	ticks := func(d time.Duration) uint64 { return uint64((400*24*time.Hour - d) / time.Second * 100) }
	for ago, want := range map[time.Duration]string{
		time.Hour:        "14:04",
		30 * time.Minute: "14:34",
		// Yesterday and earlier this year.
		24 * time.Hour:       "Jun05",
		100 * 24 * time.Hour: "Feb27",
		200 * 24 * time.Hour: "2023",
	} {
		p := &process{start: ticks(ago)}
		if got := c.startTime(p); got != want {
			t.Errorf("started %v ago: STIME %q, want %q", ago, got, want)
		}
	}
	// 10 s of CPU in 100 s of life is 10%; more than all of it is 99.
	for cpu, want := range map[uint64]uint64{0: 0, 1000: 10, 5050: 50, 100000: 99} {
		p := &process{start: ticks(100 * time.Second), ticks: cpu}
		if got := c.cpuPercent(p); got != want {
			t.Errorf("%d ticks in 100 s: C %d, want %d", cpu, got, want)
		}
	}
}

func TestCommand(t *testing.T) {
	for _, tc := range []struct {
		p    process
		want string
	}{
		{process{args: []byte("sleep\x00100\x00")}, "sleep 100"},
		{process{args: []byte("sh\x00-c\x00a\tb\nc\x01")}, "sh -c a?b c?"},
		{process{args: []byte("x\xffé\x00")}, "x?é"},
		{process{comm: "kworker/0:1", state: 'I'}, "[kworker/0:1]"},
		{process{comm: "true", state: 'Z'}, "[true] <defunct>"},
	} {
		if got := command(&tc.p); got != tc.want {
			t.Errorf("command(%q) = %q, want %q", tc.p.args, got, tc.want)
		}
	}
}

func TestParsePS(t *testing.T) {
	out := `  PID   LWP COMMAND
    1     - init --x
    -     1 -
   20     - sh -c a  b
    -    20 -
    -    21 -
   30     - other
    -    30 -
   40     -
`
	header, rows, err := parsePS([]byte(out), []int{20, 1, 40})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(header, []string{"PID", "LWP", "COMMAND"}) {
		t.Errorf("header %v", header)
	}
	want := [][]string{
		{"1", "-", "init --x"}, {"-", "1", "-"},
		{"20", "-", "sh -c a b"}, {"-", "20", "-"}, {"-", "21", "-"},
		{"40", "-", ""},
	}
	if !slices.EqualFunc(rows, want, slices.Equal) {
		t.Errorf("rows %q, want %q", rows, want)
	}
	for _, bad := range []string{"", "COMMAND\nsh\n", "  PID COMMAND\n  abc sh\n"} {
		if _, _, err := parsePS([]byte(bad), []int{1}); err == nil {
			t.Errorf("ps output %q parsed", bad)
		}
	}
	if _, _, err := parsePS([]byte("COMMAND\nsh\n"), nil); !errors.Is(err, ErrNoPIDColumn) {
		t.Errorf("no PID column: %v, want ErrNoPIDColumn", err)
	}
}

func TestCheckPSArgs(t *testing.T) {
	for _, args := range [][]string{
		{"-ef"}, {"aux"}, {"-o", "pid,comm"}, {"-o", "pid=PID,comm"}, {"-opid=PID"},
		{"-o", "comm=NAME,pid"}, {"-o", "pid", "-o", "args=CMD"},
	} {
		if err := checkPSArgs(args); err != nil {
			t.Errorf("%q: %v", args, err)
		}
	}
	for _, args := range [][]string{
		{"-o", "user=PID"}, {"-o", "pid,ppid=PID"}, {"-ouser=PID"}, {"-o", "comm=PIDS"}, {"-o", "ppid= PID"},
	} {
		if err := checkPSArgs(args); !errors.Is(err, ErrPIDAlias) {
			t.Errorf("%q: %v, want ErrPIDAlias", args, err)
		}
	}
}

func TestPrint(t *testing.T) {
	var b bytes.Buffer
	err := Print(&b, defaultHeader, [][]string{
		{"nookdev", "4242", "4200", "0", "15:04", "?", "00:00:00", "sh -c sleep 100"},
		{"100000", "4243", "4242", "99", "Jun05", "pts/0", "1-02:03:04", "sleep 100"},
	})
	if err != nil {
		t.Fatal(err)
	}
	// Cells at least 20 wide with 3 spaces of padding, as docker top.
	want := "" +
		"UID                 PID                 PPID                C                   STIME               TTY                 TIME                CMD\n" +
		"nookdev             4242                4200                0                   15:04               ?                   00:00:00            sh -c sleep 100\n" +
		"100000              4243                4242                99                  Jun05               pts/0               1-02:03:04          sleep 100\n"
	if b.String() != want {
		t.Errorf("printed\n%s\nwant\n%s", b.String(), want)
	}
}

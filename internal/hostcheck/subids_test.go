package hostcheck

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// subIDCount sums the counts of the user's lines in a subordinate id file.
func subIDCount(t *testing.T, file string, cfg Config) uint64 {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		return 0
	}
	defer f.Close()
	var n uint64
	s := bufio.NewScanner(f)
	for s.Scan() {
		parts := strings.Split(strings.TrimSpace(s.Text()), ":")
		if len(parts) != 3 || (parts[0] != cfg.User && parts[0] != strconv.Itoa(cfg.UID)) {
			continue
		}
		c, err := strconv.ParseUint(parts[2], 10, 32)
		if err == nil {
			n += c
		}
	}
	return n
}

// TestSubIDs compares the report with this machine's /etc/subuid and
// /etc/subgid for the user running the tests (nookdev has 100000:65536).
func TestSubIDs(t *testing.T) {
	cfg := CurrentUser()
	r := Report{Sections: []Section{subIDSection(context.Background(), cfg)}}
	for _, k := range []struct{ key, file string }{{"subuid ranges", "/etc/subuid"}, {"subgid ranges", "/etc/subgid"}} {
		c, _ := r.Check("subordinate ids", k.key)
		n := subIDCount(t, k.file, cfg)
		t.Logf("%s: %+v (%d ids in %s)", k.key, c, n, k.file)
		switch {
		case n == 0 && (c.Status != Warning || !strings.Contains(c.Value, "none for "+cfg.User) || !strings.Contains(c.Fix, "usermod")):
			t.Errorf("%s = %+v, want a warning: none, with the usermod fix", k.key, c)
		case n > 0 && (c.Status != OK || !strings.Contains(c.Value, fmt.Sprintf("(%d ids, from ", n))):
			t.Errorf("%s = %+v, want ok with %d ids", k.key, c, n)
		}
	}
	mode, _ := r.Check("subordinate ids", "mode")
	if cfg.User == "nookdev" && (mode.Status != OK || mode.Value != "subuid (65536 ids)") {
		t.Errorf("mode for nookdev = %+v, want ok: subuid (65536 ids)", mode)
	}
}

// TestHelperPrivilege checks newuidmap and newgidmap as installed here
// against what stat says of them.
func TestHelperPrivilege(t *testing.T) {
	for _, h := range []struct {
		name string
		cap  int
	}{{"newuidmap", capSetUID}, {"newgidmap", capSetGID}} {
		path := findHelper(h.name)
		if path == "" {
			t.Logf("%s is not installed here", h.name)
			continue
		}
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		how, err := helperPrivilege(path, h.cap, "cap")
		setuidRoot := fi.Mode()&os.ModeSetuid != 0 && fi.Sys().(*syscall.Stat_t).Uid == 0
		if setuidRoot && (err != nil || how != "setuid root") {
			t.Errorf("%s is setuid root; helperPrivilege = %q, %v", path, how, err)
		}
		t.Logf("%s: %q, %v", path, how, err)
	}
	// A plain executable has neither.
	if _, err := helperPrivilege("/bin/sh", capSetUID, "cap_setuid"); err == nil {
		t.Error("helperPrivilege(/bin/sh) found a privilege")
	}
}

// fileCaps builds a security.capability value as setcap writes it.
func fileCaps(rev uint32, effective bool, permitted uint64) []byte {
	magic := rev
	if effective {
		magic |= 1
	}
	n := 20
	switch rev {
	case 0x01000000:
		n = 12
	case 0x03000000:
		n = 24
	}
	b := make([]byte, n)
	binary.LittleEndian.PutUint32(b, magic)
	binary.LittleEndian.PutUint32(b[4:], uint32(permitted))
	if n >= 20 {
		binary.LittleEndian.PutUint32(b[12:], uint32(permitted>>32))
	}
	return b
}

func TestParseFileCaps(t *testing.T) {
	for _, tc := range []struct {
		b         []byte
		permitted uint64
		effective bool
		err       bool
	}{
		{fileCaps(0x02000000, true, 1<<capSetUID), 1 << capSetUID, true, false},
		{fileCaps(0x03000000, true, 1<<capSetGID|1<<40), 1<<capSetGID | 1<<40, true, false},
		{fileCaps(0x01000000, false, 1<<capSetUID), 1 << capSetUID, false, false},
		{fileCaps(0x02000000, true, 0)[:8], 0, false, true},
		{fileCaps(0x05000000, true, 1), 0, false, true},
	} {
		p, e, err := parseFileCaps(tc.b)
		if (err != nil) != tc.err || err == nil && (p != tc.permitted || e != tc.effective) {
			t.Errorf("parseFileCaps(%x) = %#x, %v, %v; want %#x, %v, error %v", tc.b, p, e, err, tc.permitted, tc.effective, tc.err)
		}
	}
}

package userns

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/nookrun/nook/internal/nstest"
)

func TestParseSubIDs(t *testing.T) {
	const name, uid = "alice", 1001
	tests := []struct {
		desc, data string
		want       []Range
	}{
		{"empty file", "", nil},
		{"by name", "alice:100000:65536\n", []Range{{100000, 65536}}},
		{"by uid number", "1001:200000:10\n", []Range{{200000, 10}}},
		{"uid number with leading zero is still decimal (shadow's get_uid)", "01001:5:5\n", []Range{{5, 5}}},
		{"other users", "bob:100000:65536\n1002:1:1\nalicex:3:3\nalic:4:4\n", nil},
		{"several ranges in file order", "alice:300000:5\nbob:1:1\nalice:100000:10\n1001:200000:7\n",
			[]Range{{300000, 5}, {100000, 10}, {200000, 7}}},
		{"no trailing newline", "alice:7:8", []Range{{7, 8}}},
		{"comments and blank lines", "# alice:1:1\n\n   \nalice:10:1\n#\n", []Range{{10, 1}}},
		{"hex and octal as strtoul base 0", "alice:0x10:010\n", []Range{{16, 8}}},
		{"leading blanks and plus in numbers", "alice: 5:+6\n", []Range{{5, 6}}},
		{"garbage", "alice\nalice:\nalice::\nalice:1\nalice:1:2:3\nalice:x:1\nalice:1:y\nalice:-1:5\nalice:1:-5\n" +
			"alice:08:1\nalice:0x:1\nalice:1_000:1\nalice:1 :1\n:1:1\nalice:1:2\r\n\x00\xff:1:1\n", nil},
		{"start beyond 32 bits", "alice:4294967296:1\n", nil},
		{"start+count beyond 32 bits", "alice:4294967295:2\n", nil},
		{"largest range shadow takes", "alice:4294967294:2\n", []Range{{4294967294, 2}}},
		{"zero count kept for normalise to drop", "alice:9:0\n", []Range{{9, 0}}},
	}
	for _, tt := range tests {
		got := parseSubIDs([]byte(tt.data), name, uid)
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: parseSubIDs(%q) = %v, want %v", tt.desc, tt.data, got, tt.want)
		}
	}
	if got := parseSubIDs([]byte("1001:1:1\n:2:2\n"), "", 1001); !reflect.DeepEqual(got, []Range{{1, 1}}) {
		t.Errorf("without a login name only uid lines count: got %v", got)
	}
}

func TestParseGetSubIDs(t *testing.T) {
	out := "0: alice 100000 65536\n1: alice 300000 10\nError: nonsense\n2 alice 1 1\nx: alice 1 1\n3: alice 4294967295 2\n4: alice 5\n"
	want := []Range{{100000, 65536}, {300000, 10}}
	if got := parseGetSubIDs([]byte(out)); !reflect.DeepEqual(got, want) {
		t.Errorf("parseGetSubIDs = %v, want %v", got, want)
	}
}

// writeFile puts data in a fresh file of the test and returns its path.
func writeFile(t *testing.T, name, data string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSubIDsFromFiles(t *testing.T) {
	cfg := Config{
		UID: 1001, GID: 1001, User: "alice", GetSubIDs: "-",
		SubUIDFile: writeFile(t, "subuid", "alice:200000:100\nalice:100000:65536\n1001:165536:10\nbob:1:1\n"),
		SubGIDFile: writeFile(t, "subgid", "# none for alice\nbob:100000:65536\n"),
	}
	uids, err := SubUIDs(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// The name and uid lines are adjacent and merge; sorted by start.
	if want := []Range{{100000, 65546}, {200000, 100}}; !reflect.DeepEqual(uids, want) {
		t.Errorf("SubUIDs = %v, want %v", uids, want)
	}
	gids, err := SubGIDs(cfg)
	if err != nil || len(gids) != 0 {
		t.Errorf("SubGIDs = %v, %v; want none", gids, err)
	}
	cfg.SubUIDFile = filepath.Join(t.TempDir(), "missing")
	if uids, err := SubUIDs(cfg); err != nil || len(uids) != 0 {
		t.Errorf("missing file: SubUIDs = %v, %v; want none and no error", uids, err)
	}
	cfg.SubUIDFile = t.TempDir() // a directory cannot be read as a file
	if _, err := SubUIDs(cfg); err == nil || !strings.Contains(err.Error(), "alice") {
		t.Errorf("unreadable file: error %v, want one naming the user", err)
	}
}

// TestSubIDsGetSubIDs runs the real getsubids (Debian 12's uidmap ships
// it) over the machine's /etc/subuid and /etc/subgid.
func TestSubIDsGetSubIDs(t *testing.T) {
	tool, ranges := realGetSubIDs(t)
	empty := writeFile(t, "empty", "")
	cfg := Config{UID: 4242, GID: 4242, User: ranges.user, GetSubIDs: tool, SubUIDFile: empty, SubGIDFile: empty}
	uids, err := SubUIDs(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// The files given are empty: these ranges can only come from getsubids.
	if !reflect.DeepEqual(uids, ranges.uids) {
		t.Errorf("SubUIDs via getsubids = %v, want %v", uids, ranges.uids)
	}
	gids, err := SubGIDs(cfg)
	if err != nil || !reflect.DeepEqual(gids, ranges.gids) {
		t.Errorf("SubGIDs via getsubids = %v, %v; want %v", gids, err, ranges.gids)
	}
	cfg.GetSubIDs = "-"
	if uids, _ := SubUIDs(cfg); len(uids) != 0 {
		t.Errorf(`GetSubIDs "-" still asked getsubids: %v`, uids)
	}
	// A user getsubids knows nothing about (it exits 1): the file decides.
	cfg = Config{UID: 4242, GID: 4242, User: "nook-no-such-user", GetSubIDs: tool,
		SubUIDFile: writeFile(t, "subuid", "nook-no-such-user:500000:5\n")}
	if uids, err := SubUIDs(cfg); err != nil || !reflect.DeepEqual(uids, []Range{{500000, 5}}) {
		t.Errorf("fallback to the file after getsubids found nothing: %v, %v", uids, err)
	}
	// The file is read first: getsubids is not run for a user it knows.
	cfg.GetSubIDs = filepath.Join(t.TempDir(), "getsubids")
	if uids, err := SubUIDs(cfg); err != nil || !reflect.DeepEqual(uids, []Range{{500000, 5}}) {
		t.Errorf("a user the file knows: %v, %v; want the file's range without running getsubids", uids, err)
	}
	cfg.SubUIDFile = empty
	if _, err := SubUIDs(cfg); err == nil {
		t.Errorf("a getsubids path that does not exist gave no error")
	}
}

type machineRanges struct {
	user       string
	uids, gids []Range
}

// realGetSubIDs finds getsubids and a user of /etc/subuid that it knows:
// the test user itself when it has a range (CI's user does), else the
// first user named in /etc/subuid.
func realGetSubIDs(t *testing.T) (string, machineRanges) {
	t.Helper()
	tool, err := findGetSubIDs(Config{User: "x"})
	if err != nil || tool == "" {
		nstest.Skip(t, "getsubids is not installed (Debian: uidmap)")
	}
	data, err := os.ReadFile("/etc/subuid")
	if err != nil {
		nstest.Skip(t, "no /etc/subuid to compare getsubids with: "+err.Error())
	}
	gdata, _ := os.ReadFile("/etc/subgid")
	self := Config{UID: os.Getuid()}
	self, _ = self.resolve()
	var users []string
	if self.User != "" {
		users = append(users, self.User)
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if owner, _, ok := strings.Cut(line, ":"); ok && owner != "" && !strings.HasPrefix(owner, "#") {
			users = append(users, owner)
		}
	}
	for _, u := range users {
		const noUID = 4242 // not the uid of any line's owner here
		r := machineRanges{user: u, uids: normalise(parseSubIDs(data, u, noUID), noUID),
			gids: normalise(parseSubIDs(gdata, u, noUID), noUID)}
		if len(r.uids) > 0 {
			return tool, r
		}
	}
	nstest.Skip(t, "no user with a range in /etc/subuid")
	return "", machineRanges{}
}

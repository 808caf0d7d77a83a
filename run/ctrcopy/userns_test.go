package ctrcopy

import (
	"archive/tar"
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/nookrun/nook/internal/nstest"
	"golang.org/x/sys/unix"
)

// The tests that need to be root of a user namespace re-execute the test
// binary with envRole set; TestMain then runs it through nstest.Main, into
// a new user and mount namespace, where TestRole plays the role. The other
// tests run as the invoking user, the host side.
//
//	role     inside the namespace
//	owners   Pack's ids, Unpack with Chown, KeepOwners and neither
//	pack     chroot into a "container root", Pack a path there to a file
//	unpack   chroot into it, Unpack a file at a path there
const (
	envRole = "NOOK_CTRCOPY_TEST_ROLE"
	envArgs = "NOOK_CTRCOPY_TEST_ARGS"
)

func TestMain(m *testing.M) {
	if os.Getenv(envRole) != "" {
		nstest.Main(m)
		return
	}
	os.Exit(m.Run())
}

// roleArgs is what a pack or unpack role does, as the CLI's `nook __cp`
// would: Path is in the container's root, File (the archive) on the host,
// opened before the chroot.
type roleArgs struct {
	Root   string        `json:"root"`
	Path   string        `json:"path"`
	File   string        `json:"file"`
	Pack   PackOptions   `json:"pack"`
	Unpack UnpackOptions `json:"unpack"`
}

// runRole plays role in a user namespace, failing t with the role's
// output if it fails, skipping t (nstest.Skip) if the namespace cannot be
// made.
func runRole(t *testing.T, role string, args roleArgs) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	a, err := json.Marshal(args)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^TestRole$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), envRole+"="+role, envArgs+"="+string(a))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("role %s in a user namespace: %v\n%s", role, err, out)
	}
	if i := bytes.Index(out, []byte("--- SKIP: TestRole")); i >= 0 {
		nstest.Skip(t, "role "+role+": "+strings.TrimSpace(string(out[i:])))
	}
	if !bytes.Contains(out, []byte("--- PASS: TestRole")) {
		t.Fatalf("role %s did not run:\n%s", role, out)
	}
	t.Logf("role %s:\n%s", role, out)
}

// TestRole is the namespace side of the tests above; on its own it has
// nothing to do.
func TestRole(t *testing.T) {
	role := os.Getenv(envRole)
	if role == "" {
		t.Skip("helper: runs only when the user-namespace tests re-execute the binary")
	}
	nstest.Require(t)
	var args roleArgs
	if err := json.Unmarshal([]byte(os.Getenv(envArgs)), &args); err != nil {
		t.Fatal(err)
	}
	switch role {
	case "owners":
		ownersInNamespace(t)
	case "pack", "unpack":
		flag := os.O_RDONLY
		if role == "pack" {
			flag = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
		}
		f, err := os.OpenFile(args.File, flag, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		// The container side: its root is the container's. This process
		// ends with the test, so the chroot leaks nowhere.
		if err := unix.Chroot(args.Root); err != nil {
			t.Fatalf("chroot %s: %v", args.Root, err)
		}
		if err := os.Chdir("/"); err != nil {
			t.Fatal(err)
		}
		if role == "pack" {
			_, err = Pack(f, args.Path, args.Pack)
		} else {
			err = Unpack(f, args.Path, args.Unpack)
		}
		if err != nil {
			t.Fatalf("%s: %v", role, err)
		}
	default:
		t.Fatalf("unknown role %q", role)
	}
}

// TestContainerSide runs Pack and Unpack as `nook __cp` will: as root of a
// user namespace, chrooted into a container's root, with the archive made
// or read by the host side as the unprivileged user.
func TestContainerSide(t *testing.T) {
	tmp := t.TempDir()
	ctr := mkdir(t, tmp, "ctr")
	write(t, ctr, "data/f", "in-ctr", 0o644)
	write(t, ctr, "data/sub/g", "g", 0o600)
	write(t, ctr, "etc/hostname", "ctr-hostname\n", 0o644)
	symlink(t, "/", filepath.Join(ctr, "escape")) // absolute: the container's /, not the host's
	write(t, tmp, "src/file", "from-host", 0o640)
	mkdir(t, ctr, "tmp")
	chmod(t, filepath.Join(ctr, "tmp"), 0o1777)

	// Host → container: the host packs, the container unpacks with
	// Docker's ownership (container root).
	in := filepath.Join(tmp, "in.tar")
	f, err := os.Create(in)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Pack(f, filepath.Join(tmp, "src"), PackOptions{}); err != nil {
		t.Fatal(err)
	}
	f.Close()
	runRole(t, "unpack", roleArgs{Root: ctr, Path: "/escape/data", File: in, Unpack: UnpackOptions{Chown: &IDs{0, 0}}})
	if c, err := os.ReadFile(filepath.Join(ctr, "data/src/file")); err != nil || string(c) != "from-host" {
		t.Errorf("ctr/data/src/file = %q, %v; want the host's file, through the container's own symlink", c, err)
	}
	if st := lstat(t, filepath.Join(ctr, "data/src/file")); st.Uid != uint32(os.Getuid()) {
		t.Errorf("ctr/data/src/file owned by host uid %d, want %d (container root)", st.Uid, os.Getuid())
	}

	// Container → host: the container packs (its ids: root's), the host
	// unpacks without chown.
	out := filepath.Join(tmp, "out.tar")
	runRole(t, "pack", roleArgs{Root: ctr, Path: "/escape/etc/hostname", File: out})
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range entries(t, b) {
		if h.Typeflag != tar.TypeXGlobalHeader && (h.Uid != 0 || h.Gid != 0) {
			t.Errorf("entry %s has ids %d:%d, want the container's 0:0", h.Name, h.Uid, h.Gid)
		}
	}
	host := mkdir(t, tmp, "host")
	if err := Unpack(bytes.NewReader(b), host, UnpackOptions{}); err != nil {
		t.Fatal(err)
	}
	if c, err := os.ReadFile(filepath.Join(host, "hostname")); err != nil || string(c) != "ctr-hostname\n" {
		t.Errorf("host/hostname = %q, %v; want the container's /etc/hostname", c, err)
	}

	runRole(t, "pack", roleArgs{Root: ctr, Path: "/data/.", File: out})
	if err := unpackFile(out, filepath.Join(tmp, "contents")); err != nil {
		t.Fatal(err)
	}
	compareTrees(t, filepath.Join(ctr, "data"), filepath.Join(tmp, "contents"))
	noTemps(t, tmp)
}

func unpackFile(name, dst string) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	return Unpack(f, dst, UnpackOptions{})
}

// TestOwners checks ownership in a user namespace, where chown works.
func TestOwners(t *testing.T) {
	runRole(t, "owners", roleArgs{})
}

func ownersInNamespace(t *testing.T) {
	if !mapped(t, 1000) || !mapped(t, 2002) {
		nstest.Skip(t, "ids 1000-2002 are not mapped in the test's user namespace (the user has no subordinate range, see /etc/subuid)")
	}
	tmp, err := os.MkdirTemp("", "ctrcopy-owners-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	src := mkdir(t, tmp, "src")
	d := mkdir(t, src, "d")
	f := write(t, src, "d/f", "f", 0o755)
	l := filepath.Join(src, "d/l")
	symlink(t, "f", l)
	for _, c := range []struct {
		p        string
		uid, gid int
	}{{d, 1000, 1000}, {f, 1000, 1001}, {l, 1002, 1002}} {
		if err := os.Lchown(c.p, c.uid, c.gid); err != nil {
			t.Fatal(err)
		}
	}
	chmod(t, f, 0o4755) // after the chown, which clears it
	b, _ := pack(t, d, PackOptions{})
	ids := map[string][2]int{}
	for _, h := range entries(t, b) {
		ids[h.Name] = [2]int{h.Uid, h.Gid}
	}
	if want := map[string][2]int{"": {0, 0}, "d/": {1000, 1000}, "d/f": {1000, 1001}, "d/l": {1002, 1002}}; !equalIDs(ids, want) {
		t.Errorf("archive ids %v, want %v", ids, want)
	}

	check := func(dst string, want map[string][2]int) {
		t.Helper()
		for rel, w := range want {
			st := lstat(t, filepath.Join(dst, rel))
			if int(st.Uid) != w[0] || int(st.Gid) != w[1] {
				t.Errorf("%s: owned by %d:%d, want %d:%d", filepath.Join(dst, rel), st.Uid, st.Gid, w[0], w[1])
			}
		}
	}
	keep := filepath.Join(tmp, "keep")
	if err := Unpack(bytes.NewReader(b), keep, UnpackOptions{KeepOwners: true}); err != nil {
		t.Fatal(err)
	}
	check(keep, map[string][2]int{".": {1000, 1000}, "f": {1000, 1001}, "l": {1002, 1002}})
	if st := lstat(t, filepath.Join(keep, "f")); st.Mode&0o7777 != 0o4755 {
		t.Errorf("keep/f mode %o, want setuid 4755 kept past the chown", st.Mode&0o7777)
	}
	fixed := filepath.Join(tmp, "fixed")
	if err := Unpack(bytes.NewReader(b), fixed, UnpackOptions{Chown: &IDs{2000, 2001}}); err != nil {
		t.Fatal(err)
	}
	check(fixed, map[string][2]int{".": {2000, 2001}, "f": {2000, 2001}, "l": {2000, 2001}})
	mine := filepath.Join(tmp, "mine")
	if err := Unpack(bytes.NewReader(b), mine, UnpackOptions{}); err != nil {
		t.Fatal(err)
	}
	me := [2]int{os.Getuid(), os.Getgid()}
	check(mine, map[string][2]int{".": me, "f": me, "l": me})

	// Missing parents made for a bare stream get the Chown ids too.
	bare := mkdir(t, tmp, "bare")
	if err := Unpack(bytes.NewReader(mkTar(t, nil, file("p/q", "Q"))), bare, UnpackOptions{Chown: &IDs{2000, 2000}}); err != nil {
		t.Fatal(err)
	}
	check(bare, map[string][2]int{"p": {2000, 2000}, "p/q": {2000, 2000}})

	// -a with ids the namespace cannot hold: a clear error, no file.
	un := unmapped(t)
	if un < 0 {
		t.Log("every id is mapped (the test runs as real root): no unmapped id to try")
		return
	}
	e := file("x", "X")
	e.hdr.Uid, e.hdr.Gid = un, un
	dst := mkdir(t, tmp, "unmapped")
	err = Unpack(bytes.NewReader(mkTar(t, &Info{Name: "x"}, e)), dst, UnpackOptions{KeepOwners: true})
	if err == nil || !strings.Contains(err.Error(), "not mapped") {
		t.Errorf("KeepOwners with unmapped id %d: %v, want an error saying so", un, err)
	} else {
		t.Logf("unmapped: %v", err)
	}
	if _, serr := os.Lstat(filepath.Join(dst, "x")); !errors.Is(serr, os.ErrNotExist) {
		t.Errorf("unmapped/x exists after a failed chown: %v", serr)
	}
	noTemps(t, tmp)
}

func equalIDs(got, want map[string][2]int) bool {
	for k, w := range want {
		if k == "" {
			continue // the global header
		}
		if got[k] != w {
			return false
		}
	}
	return true
}

// uidRanges reads this process's uid_map: inside id, length.
func uidRanges(t *testing.T) [][2]uint64 {
	t.Helper()
	f, err := os.Open("/proc/self/uid_map")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out [][2]uint64
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) != 3 {
			continue
		}
		in, _ := strconv.ParseUint(fs[0], 10, 64)
		n, _ := strconv.ParseUint(fs[2], 10, 64)
		out = append(out, [2]uint64{in, n})
	}
	return out
}

func mapped(t *testing.T, id uint64) bool {
	for _, r := range uidRanges(t) {
		if id >= r[0] && id < r[0]+r[1] {
			return true
		}
	}
	return false
}

// unmapped is an id with no mapping here, or -1.
func unmapped(t *testing.T) int {
	end := uint64(0)
	for _, r := range uidRanges(t) {
		end = max(end, r[0]+r[1])
	}
	if end >= 1<<32-2 {
		return -1
	}
	return int(end)
}

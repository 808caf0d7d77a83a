package difftest

import (
	"fmt"
	"os"
	"path"
	"sort"
	"strings"

	"golang.org/x/sys/unix"
)

// node is what the snapshot records of one visible entry.
type node struct {
	Path   string
	Type   string
	Mode   uint32 // permission bits incl. setuid/setgid/sticky
	Uid    uint32
	Gid    uint32
	Size   int64  // not compared for directories (it is the upper fs's business)
	Data   string // regular files: contents or their hash
	Target string // symlinks
	Xattrs string // user.* as sorted name=value pairs
	Nlink  uint64
	Ident  ident
	Sec    int64 // mtime
	Nsec   int64
}

// ident is an inode's identity within one mount. Only which paths share one
// is ever compared, never the numbers.
type ident struct{ Dev, Ino uint64 }

type snapshot struct {
	nodes map[string]*node
	paths []string // sorted
}

// takeSnapshot walks the union at root (without following symlinks).
func takeSnapshot(root string) (*snapshot, error) {
	s := &snapshot{nodes: map[string]*node{}}
	if err := s.walk(root, ""); err != nil {
		return nil, err
	}
	sort.Strings(s.paths)
	return s, nil
}

func (s *snapshot) walk(root, rel string) error {
	n, err := statNode(root, rel)
	if err != nil {
		return err
	}
	s.nodes[rel] = n
	s.paths = append(s.paths, rel)
	if n.Type != "dir" {
		return nil
	}
	ents, err := os.ReadDir(join(root, rel))
	if err != nil {
		return fmt.Errorf("snapshot: read dir %q: %w", rel, err)
	}
	for _, e := range ents {
		if err := s.walk(root, path.Join(rel, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

func statNode(root, rel string) (*node, error) {
	full := join(root, rel)
	var st unix.Stat_t
	if err := unix.Lstat(full, &st); err != nil {
		return nil, fmt.Errorf("snapshot: lstat %q: %w", rel, err)
	}
	n := &node{
		Path: rel, Type: modeType(st.Mode), Mode: st.Mode & 0o7777, Uid: st.Uid, Gid: st.Gid,
		Size: st.Size, Nlink: st.Nlink, Ident: ident{st.Dev, st.Ino}, Sec: st.Mtim.Sec, Nsec: st.Mtim.Nsec,
	}
	var err error
	switch n.Type {
	case "file":
		if n.Data, err = hashFile(full); err != nil {
			return nil, fmt.Errorf("snapshot: read %q: %w", rel, err)
		}
	case "symlink":
		if n.Target, err = os.Readlink(full); err != nil {
			return nil, fmt.Errorf("snapshot: readlink %q: %w", rel, err)
		}
	}
	names, err := listXattrs(full)
	if err != nil {
		return nil, fmt.Errorf("snapshot: %w", err)
	}
	sort.Strings(names)
	var xs []string
	for _, name := range names {
		v, err := getXattr(full, name)
		if err != nil {
			return nil, fmt.Errorf("snapshot: %w", err)
		}
		xs = append(xs, fmt.Sprintf("%s=%q", name, v))
	}
	n.Xattrs = strings.Join(xs, " ")
	return n, nil
}

// explicitCutoff separates times set on purpose (fixture entries and
// utimes ops use times before it) from times the filesystem stamped "now".
// Explicit times must be kept exactly, to the nanosecond.
const explicitCutoff = 1_500_000_000

// taint marks inode identities that kernel overlayfs no longer reports
// faithfully (see known_test.go): identity and link count of paths that have
// a tainted identity on either side are not compared.
type taint struct {
	ref  map[ident]bool
	cand map[ident]bool
}

func newTaint() *taint { return &taint{ref: map[ident]bool{}, cand: map[ident]bool{}} }

func (t *taint) has(ref, cand *node) bool { return t.ref[ref.Ident] || t.cand[cand.Ident] }

// compareSnapshots lists the differences of cand from ref.
func compareSnapshots(ref, cand *snapshot, tnt *taint) []string {
	var diffs []string
	add := func(p, format string, args ...any) {
		diffs = append(diffs, fmt.Sprintf("%q: ", p)+fmt.Sprintf(format, args...))
	}
	for _, p := range ref.paths {
		if _, ok := cand.nodes[p]; !ok {
			r := ref.nodes[p]
			add(p, "missing (reference has %s)", r.Type)
		}
	}
	for _, p := range cand.paths {
		if _, ok := ref.nodes[p]; !ok {
			add(p, "unexpected %s (reference has nothing)", cand.nodes[p].Type)
		}
	}
	// nook copies up every name of a hardlink group the kernel splits,
	// and with them their parent directories, which then merge: a merged
	// directory may report nlink 1 where the kernel still has a lower one.
	splitParents := map[string]bool{}
	for _, p := range ref.paths {
		if c := cand.nodes[p]; c != nil && tnt.has(ref.nodes[p], c) {
			for d := parentOf(p); ; d = parentOf(d) {
				splitParents[d] = true
				if d == "" {
					break
				}
			}
		}
	}
	for _, p := range ref.paths {
		r, c := ref.nodes[p], cand.nodes[p]
		if c == nil {
			continue
		}
		if r.Type != c.Type {
			add(p, "type %s, want %s", c.Type, r.Type)
			continue
		}
		if tnt.has(r, c) {
			// The kernel has split this hardlink group (known difference
			// 2): its other names no longer show what nook shows for the
			// whole group. selfConsistent holds nook to its own promise.
			continue
		}
		if r.Mode != c.Mode {
			add(p, "mode %04o, want %04o", c.Mode, r.Mode)
		}
		if r.Uid != c.Uid || r.Gid != c.Gid {
			add(p, "owner %d:%d, want %d:%d", c.Uid, c.Gid, r.Uid, r.Gid)
		}
		if r.Type != "dir" && r.Size != c.Size {
			add(p, "size %d, want %d", c.Size, r.Size)
		}
		if r.Data != c.Data {
			add(p, "contents %s, want %s", c.Data, r.Data)
		}
		if r.Target != c.Target {
			add(p, "symlink target %q, want %q", c.Target, r.Target)
		}
		if r.Xattrs != c.Xattrs {
			add(p, "xattrs {%s}, want {%s}", c.Xattrs, r.Xattrs)
		}
		if (r.Sec < explicitCutoff || c.Sec < explicitCutoff) && (r.Sec != c.Sec || r.Nsec != c.Nsec) {
			add(p, "mtime %s, want %s", fmtTime(c.Sec, c.Nsec), fmtTime(r.Sec, r.Nsec))
		}
		if r.Nlink != c.Nlink && !dirNlinkUnknown(r, c, cand) && !(r.Type == "dir" && c.Nlink == 1 && splitParents[p]) {
			add(p, "nlink %d, want %d", c.Nlink, r.Nlink)
		}
	}
	diffs = append(diffs, compareIdentity(ref, cand, tnt)...)
	return diffs
}

// selfConsistent checks that all names sharing an inode in s show the same
// inode: attributes, contents and xattrs. nook keeps hardlink groups whole
// where the kernel splits them, so for those this is the check that is left.
func selfConsistent(s *snapshot) []string {
	first := map[ident]*node{}
	var diffs []string
	for _, p := range s.paths {
		n := s.nodes[p]
		if n.Type == "dir" {
			continue
		}
		f, ok := first[n.Ident]
		if !ok {
			first[n.Ident] = n
			continue
		}
		if f.Type != n.Type || f.Mode != n.Mode || f.Uid != n.Uid || f.Gid != n.Gid || f.Size != n.Size ||
			f.Data != n.Data || f.Target != n.Target || f.Xattrs != n.Xattrs || f.Nlink != n.Nlink || f.Sec != n.Sec || f.Nsec != n.Nsec {
			diffs = append(diffs, fmt.Sprintf("%q and %q share st_ino %d but differ: %+v vs %+v", f.Path, p, n.Ident.Ino, *f, *n))
		}
	}
	return diffs
}

// dirNlinkUnknown: kernel overlayfs reports st_nlink 1 for merged
// directories (counting subdirectories across layers would cost a readdir
// of every layer), the traditional "unknown" value find(1) understands.
// For those the candidate may say 1 too, or the true count.
func dirNlinkUnknown(r, c *node, cand *snapshot) bool {
	if r.Type != "dir" || r.Nlink != 1 {
		return false
	}
	if c.Nlink == 1 {
		return true
	}
	want := uint64(2)
	for _, p := range cand.paths {
		if parentOf(p) == c.Path && p != c.Path && cand.nodes[p].Type == "dir" {
			want++
		}
	}
	return c.Nlink == want
}

func fmtTime(sec, nsec int64) string {
	if sec >= explicitCutoff {
		return "now"
	}
	return formatTimespec(sec, nsec)
}

// compareIdentity checks that the same paths share an inode on both sides,
// among paths whose identity is not tainted.
func compareIdentity(ref, cand *snapshot, tnt *taint) []string {
	classes := func(s *snapshot, other *snapshot, refSide bool) map[string]string {
		byIdent := map[ident][]string{}
		for _, p := range s.paths {
			o := other.nodes[p]
			if o == nil {
				continue
			}
			r, c := s.nodes[p], o
			if !refSide {
				r, c = o, s.nodes[p]
			}
			if tnt.has(r, c) {
				continue
			}
			byIdent[s.nodes[p].Ident] = append(byIdent[s.nodes[p].Ident], p)
		}
		out := map[string]string{}
		for _, ps := range byIdent {
			for _, p := range ps {
				out[p] = strings.Join(ps, ", ")
			}
		}
		return out
	}
	rc, cc := classes(ref, cand, true), classes(cand, ref, false)
	var diffs []string
	reported := map[string]bool{}
	for _, p := range ref.paths {
		want, ok := rc[p]
		if !ok || reported[want] {
			continue
		}
		if got := cc[p]; got != want {
			reported[want] = true
			diffs = append(diffs, fmt.Sprintf("%q: shares its inode with [%s], want [%s]", p, got, want))
		}
	}
	return diffs
}

package difftest

import (
	"fmt"
	"math/rand"
	"os"
	"path"
	"sort"

	"golang.org/x/sys/unix"
)

// generator draws ops from a seed, with paths taken from the reference's
// current tree, names it has seen (to re-create deleted lower names over
// their whiteouts) and fresh names. Names that look like whiteouts and 0:0
// devices are never generated (known difference 3).
type generator struct {
	r    *rand.Rand
	seen map[string]bool
}

func newGenerator(seed int64) *generator {
	return &generator{r: rand.New(rand.NewSource(seed)), seen: map[string]bool{}}
}

type treeEntry struct {
	path string
	typ  string
}

// listTree lists the union at root (not the root itself).
func listTree(root string) ([]treeEntry, error) {
	var out []treeEntry
	var walk func(rel string) error
	walk = func(rel string) error {
		ents, err := os.ReadDir(join(root, rel))
		if err != nil {
			return err
		}
		for _, e := range ents {
			p := path.Join(rel, e.Name())
			var st unix.Stat_t
			if err := unix.Lstat(join(root, p), &st); err != nil {
				return err
			}
			out = append(out, treeEntry{p, modeType(st.Mode)})
			if st.Mode&unix.S_IFMT == unix.S_IFDIR {
				if err := walk(p); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := walk(""); err != nil {
		return nil, fmt.Errorf("list reference tree: %w", err)
	}
	return out, nil
}

var opWeights = []struct {
	kind   string
	weight int
}{
	{"write", 8}, {"append", 5}, {"truncate", 4}, {"otrunc", 3}, {"create", 6}, {"read", 5},
	{"mkdir", 6}, {"rmdir", 5}, {"unlink", 8}, {"rename", 14}, {"link", 5}, {"symlink", 4},
	{"mkfifo", 2}, {"chmod", 5}, {"chown", 5}, {"utimes", 4}, {"setxattr", 5}, {"rmxattr", 3},
	{"getxattr", 2}, {"listxattr", 2}, {"readdir", 4}, {"stat", 4}, {"readlink", 2},
}

var freshNames = append([]string{"n1", "n2", "n3", "x"}, namePool...)

// next returns an op for the current state of the reference at root.
func (g *generator) next(root string) (op, error) {
	tree, err := listTree(root)
	if err != nil {
		return op{}, err
	}
	var dirs []string
	byType := map[string][]string{}
	for _, e := range tree {
		g.seen[e.path] = true
		byType[e.typ] = append(byType[e.typ], e.path)
		if e.typ == "dir" {
			dirs = append(dirs, e.path)
		}
	}
	seen := make([]string, 0, len(g.seen))
	for p := range g.seen {
		seen = append(seen, p)
	}
	sort.Strings(seen)
	r := g.r
	fresh := func() string {
		d := ""
		if len(dirs) > 0 && r.Intn(4) != 0 {
			d = dirs[r.Intn(len(dirs))]
		}
		return path.Join(d, freshNames[r.Intn(len(freshNames))])
	}
	// pick an existing path, preferring type typ; sometimes a seen or fresh one.
	total := 0
	for _, w := range opWeights {
		total += w.weight
	}
	x := r.Intn(total)
	var kind string
	for _, w := range opWeights {
		if x < w.weight {
			kind = w.kind
			break
		}
		x -= w.weight
	}
	// Only ops on the root's attributes may name the root: for the
	// others the mount point is in the parent filesystem (rename gives
	// EXDEV, rmdir EBUSY), not in the union.
	rootOK := kind == "chmod" || kind == "chown" || kind == "utimes" || kind == "setxattr" || kind == "rmxattr" ||
		kind == "getxattr" || kind == "listxattr" || kind == "stat" || kind == "readdir"
	pick := func(typ string) string {
		switch x := r.Intn(100); {
		case x < 2 && rootOK:
			return "" // the root: its attributes are the upper dir's

		case x < 8 && len(seen) > 0:
			return seen[r.Intn(len(seen))]
		case x < 16 || len(tree) == 0:
			return fresh()
		case x < 80 && len(byType[typ]) > 0:
			return byType[typ][r.Intn(len(byType[typ]))]
		}
		return tree[r.Intn(len(tree))].path
	}

	o := op{Kind: kind}
	switch kind {
	case "write":
		o.P, o.Data, o.Rep = pick("file"), randText(r, r.Intn(200)), 1
		o.Off = int64(r.Intn(300))
		if r.Intn(20) == 0 {
			o.Off = 1 << 20 // leaves a hole
		}
		if r.Intn(20) == 0 {
			o.Rep = 2000
		}
	case "append":
		o.P, o.Data, o.Rep = pick("file"), randText(r, 1+r.Intn(100)), 1
	case "truncate":
		o.P, o.Off = pick("file"), []int64{0, 1, 10, 100, 70000}[r.Intn(5)]
	case "otrunc", "read":
		o.P = pick("file")
	case "create":
		o.P, o.Mode = fresh(), fileModes[r.Intn(len(fileModes))]
		if r.Intn(3) == 0 {
			o.P = pick("file")
		}
		if r.Intn(3) == 0 {
			o.Flags = "excl"
		}
	case "mkdir":
		o.P, o.Mode = fresh(), dirModes[r.Intn(len(dirModes))]
		if r.Intn(6) == 0 {
			o.P = pick("dir")
		}
	case "rmdir", "readdir":
		o.P = pick("dir")
	case "unlink":
		o.P = pick("file")
	case "rename":
		o.P = pick([]string{"file", "dir", "symlink"}[r.Intn(3)])
		switch x := r.Intn(10); {
		case x < 5:
			o.Q = fresh()
		case x < 8:
			o.Q = pick(typeOf(tree, o.P))
		default:
			o.Q = pick("")
		}
		switch x := r.Intn(10); {
		case x < 2:
			o.Flags = "noreplace"
		case x < 4:
			o.Flags, o.Q = "exchange", pick("")
		}
	case "link":
		o.P, o.Q = pick("file"), fresh()
	case "symlink":
		o.P, o.Q = fresh(), []string{"a", "../b", "/etc/passwd", "nowhere", "d/e"}[r.Intn(5)]
	case "mkfifo":
		o.P, o.Mode = fresh(), 0o644
	case "chmod":
		o.P = pick("")
		all := append(append([]uint32{0}, fileModes...), dirModes...)
		o.Mode = all[r.Intn(len(all))]
	case "chown":
		o.P = pick("")
		o.Uid, o.Gid = ids[r.Intn(len(ids))], ids[r.Intn(len(ids))]
		if r.Intn(5) == 0 {
			o.Uid = -1
		}
		if r.Intn(5) == 0 {
			o.Gid = -1
		}
		if r.Intn(2) == 0 {
			o.Flags = "nofollow"
		}
	case "utimes":
		o.P = pick("")
		o.Sec, o.Nsec = 1_000_000_000+r.Int63n(400_000_000), r.Int63n(1_000_000_000)
		if r.Intn(2) == 0 {
			o.Flags = "nofollow"
		}
	case "setxattr":
		o.P, o.Name, o.Value = pick(""), xattrName(r), fmt.Sprintf("v%d", r.Intn(1000))
		o.Flags = []string{"", "", "", "create", "replace"}[r.Intn(5)]
	case "rmxattr", "getxattr":
		o.P, o.Name = pick(""), xattrName(r)
	case "listxattr", "stat":
		o.P = pick("")
	case "readlink":
		o.P = pick("symlink")
	}
	if r.Intn(12) == 0 && o.Kind != "chown" {
		o.As = 1000
	}
	return o, nil
}

func xattrName(r *rand.Rand) string {
	if r.Intn(25) == 0 {
		return "trusted.difftest" // needs CAP_SYS_ADMIN in the initial namespace: EPERM
	}
	return "user." + namePool[r.Intn(3)]
}

func typeOf(tree []treeEntry, p string) string {
	for _, e := range tree {
		if e.path == p {
			return e.typ
		}
	}
	return ""
}

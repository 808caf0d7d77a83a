package layer

import (
	"fmt"
	"strings"
)

const (
	maxEntries      = 1 << 24 // live entries in one index
	maxNodes        = 1 << 25 // entries ever made while building, replaced ones included
	maxExtents      = 1 << 24 // data extents in one index
	maxFragsPerFile = 1 << 20 // fragments of one sparse file, as archive/tar allows
)

// builder holds the layer's tree while the tar streams in. Names are nodes;
// what a name shows (metadata and data) is an inode, so that the names of a
// hardlink group share one, and a name that is later overwritten leaves the
// others with the data they had. Replaced and removed nodes stay in the slice,
// marked dead; only live ones reach the index.
type builder struct {
	nodes   []node
	inodes  []inode
	exts    []Extent
	byName  map[childKey]int32
	live    int
	dropped int
	limit   int // live entries allowed

	// Tars list entries directory by directory, so consecutive entries
	// usually share a parent; any removal invalidates the cache.
	cacheDir  string
	cacheNode int32
	cacheOK   bool
}

type childKey struct {
	parent int32
	name   string
}

type node struct {
	name     string
	parent   int32
	ino      int32
	kind     Kind
	opaque   bool
	implicit bool
	dead     bool
	children []int32 // dirs: every child ever added, dead ones included
}

// inode is what a name shows. Directories made implicitly share inode 0.
type inode struct {
	mode, uid, gid      uint32
	size                int64
	mtime, atime, ctime Timespec
	rdev                uint64
	link                string
	xattrs              []xattr // sorted by name
	extOff, extN        int32   // range of builder.exts
	sparse              bool
	nlink               int32 // live names
}

type xattr struct{ name, value string }

const implicitIno = 0

func newBuilder(limit int) *builder {
	b := &builder{byName: make(map[childKey]int32), limit: limit}
	b.inodes = append(b.inodes, inode{mode: 0o755})
	b.nodes = append(b.nodes, node{kind: KindDir, ino: implicitIno, implicit: true})
	b.live = 1
	return b
}

// tarEntry is one tar header as the builder takes it.
type tarEntry struct {
	path   string // clean; "" is the root
	kind   Kind
	link   bool   // a hardlink to target (kind unused)
	target string // clean hardlink target
	in     inode
}

// add applies one entry with extraction's last-wins semantics. It returns
// an error only when a limit is exceeded; entries it refuses are counted in
// b.dropped.
func (b *builder) add(e *tarEntry) error {
	if e.path == "" {
		if e.link || e.kind != KindDir {
			b.dropped++
			return nil
		}
		b.setDirInode(0, b.newInode(e.in))
		return nil
	}
	dir, base := splitDir(e.path)
	if strings.HasPrefix(dir, whPrefix) || strings.Contains(dir, "/"+whPrefix) {
		b.dropped++ // checked before any parent is made for it
		return nil
	}
	if strings.HasPrefix(base, whPrefix) {
		return b.addWhiteout(dir, base, e)
	}
	// A hardlink's target is found before any parent is made for the
	// link, so that a link that is dropped leaves nothing behind.
	target := int32(-1)
	if e.link {
		t, ok := b.resolve(e.target)
		if !ok || b.nodes[t].kind == KindDir || b.nodes[t].kind == KindWhiteout {
			b.dropped++
			return nil
		}
		target = t
	}
	parent, ok, err := b.ensureDir(dir)
	if err != nil || !ok {
		return err
	}
	kind, ino := e.kind, int32(-1)
	if e.link {
		kind, ino = b.nodes[target].kind, b.nodes[target].ino
		b.inodes[ino].applyLink(&e.in)
	} else {
		ino = b.newInode(e.in)
	}
	return b.place(parent, base, kind, ino)
}

// applyLink applies a hardlink header's metadata to the inode it joins, as
// containerd and Docker do (chown, chmod, setxattr and utimes on the new
// name reach the shared inode). Data and type stay the target's.
func (in *inode) applyLink(h *inode) {
	in.mode, in.uid, in.gid = h.mode, h.uid, h.gid
	in.mtime, in.atime, in.ctime = h.mtime, h.atime, h.ctime
	in.xattrs = mergeXattrs(in.xattrs, h.xattrs)
}

// place puts a new name (parent, base) of kind showing ino, replacing what
// was there: a directory over a directory keeps the children and takes the
// new metadata; anything else replaces the old name and its subtree, as
// extraction's RemoveAll would. A real entry over a whiteout of the same name
// keeps the real entry, and a directory then hides the lower layers' one.
func (b *builder) place(parent int32, base string, kind Kind, ino int32) error {
	opaque := false
	if old, ok := b.byName[childKey{parent, base}]; ok {
		switch o := &b.nodes[old]; {
		case o.kind == KindDir && kind == KindDir:
			b.setDirInode(old, ino)
			return nil
		case o.kind == KindWhiteout:
			b.dropped++
			opaque = kind == KindDir
		}
		b.kill(old)
	}
	_, err := b.newNode(parent, base, kind, ino, opaque, false)
	return err
}

// setDirInode gives directory n the metadata of ino, keeping xattrs the new
// header does not set (setxattr on an existing directory adds).
func (b *builder) setDirInode(n int32, ino int32) {
	nd := &b.nodes[n]
	in := &b.inodes[ino]
	in.xattrs = mergeXattrs(b.inodes[nd.ino].xattrs, in.xattrs)
	nd.ino = ino
	nd.implicit = false
}

// addWhiteout records ".wh.NAME" in dir as a whiteout entry NAME and
// ".wh..wh..opq" as dir's opaque flag. A whiteout never replaces a real entry
// of this layer: OCI whiteouts apply to lower layers only. A real directory
// and a whiteout of its name together make the directory opaque.
func (b *builder) addWhiteout(dir, base string, e *tarEntry) error {
	name := base[len(whPrefix):]
	if base != whOpaque && (strings.HasPrefix(base, whMeta) || !validName(name)) {
		b.dropped++ // AUFS metadata (.wh..wh.plnk and such) or no name
		return nil
	}
	parent, ok, err := b.ensureDir(dir)
	if err != nil || !ok {
		return err
	}
	if base == whOpaque {
		b.nodes[parent].opaque = true
		return nil
	}
	if old, ok := b.byName[childKey{parent, name}]; ok {
		o := &b.nodes[old]
		switch o.kind {
		case KindWhiteout:
			// A repeated whiteout: nothing to change.
		case KindDir:
			o.opaque = true
			b.dropped++
		default:
			b.dropped++
		}
		return nil
	}
	_, err = b.newNode(parent, name, KindWhiteout, b.newInode(e.in), false, false)
	return err
}

// ensureDir returns the directory at dir, making missing ones implicitly
// (0755 root:root). A whiteout in the way becomes an implicit opaque
// directory (the real name wins, see addWhiteout). ok is false, and the
// entry is counted as dropped, when a non-directory of this layer is in the
// way or a component is a whiteout name: such a tar cannot be extracted.
func (b *builder) ensureDir(dir string) (n int32, ok bool, err error) {
	if dir == "" {
		return 0, true, nil
	}
	if b.cacheOK && dir == b.cacheDir {
		return b.cacheNode, true, nil
	}
	cur := int32(0)
	for rest := dir; rest != ""; {
		var comp string
		comp, rest, _ = strings.Cut(rest, "/")
		if strings.HasPrefix(comp, whPrefix) {
			b.dropped++
			return 0, false, nil
		}
		c, found := b.byName[childKey{cur, comp}]
		switch {
		case !found:
			c, err = b.newNode(cur, comp, KindDir, implicitIno, false, true)
			if err != nil {
				return 0, false, err
			}
		case b.nodes[c].kind == KindWhiteout:
			b.kill(c)
			b.dropped++
			c, err = b.newNode(cur, comp, KindDir, implicitIno, true, true)
			if err != nil {
				return 0, false, err
			}
		case b.nodes[c].kind != KindDir:
			b.dropped++
			return 0, false, nil
		}
		cur = c
	}
	b.cacheDir, b.cacheNode, b.cacheOK = dir, cur, true
	return cur, true, nil
}

// resolve finds the live node at a clean path, following no symlinks.
func (b *builder) resolve(p string) (int32, bool) {
	cur := int32(0)
	for rest := p; rest != ""; {
		var comp string
		comp, rest, _ = strings.Cut(rest, "/")
		if b.nodes[cur].kind != KindDir {
			return 0, false
		}
		c, ok := b.byName[childKey{cur, comp}]
		if !ok {
			return 0, false
		}
		cur = c
	}
	return cur, true
}

func (b *builder) newInode(in inode) int32 {
	in.nlink = 0
	b.inodes = append(b.inodes, in)
	return int32(len(b.inodes) - 1)
}

func (b *builder) newNode(parent int32, name string, kind Kind, ino int32, opaque, implicit bool) (int32, error) {
	if b.live >= b.limit || len(b.nodes) >= maxNodes {
		return 0, fmt.Errorf("more than %d entries: %w", b.limit, ErrLimit)
	}
	n := int32(len(b.nodes))
	b.nodes = append(b.nodes, node{name: name, parent: parent, ino: ino, kind: kind, opaque: opaque, implicit: implicit})
	b.byName[childKey{parent, name}] = n
	b.nodes[parent].children = append(b.nodes[parent].children, n)
	b.live++
	if kind != KindDir {
		b.inodes[ino].nlink++
	}
	return n, nil
}

// kill removes node n and everything below it.
func (b *builder) kill(n int32) {
	b.cacheOK = false
	stack := []int32{n}
	for len(stack) > 0 {
		x := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		nd := &b.nodes[x]
		if nd.dead {
			continue
		}
		nd.dead = true
		delete(b.byName, childKey{nd.parent, nd.name})
		b.live--
		if nd.kind != KindDir {
			b.inodes[nd.ino].nlink--
		}
		stack = append(stack, nd.children...)
		nd.children = nil
	}
}

// mergeXattrs returns old's attributes with add's set over them, sorted.
func mergeXattrs(old, add []xattr) []xattr {
	if len(old) == 0 {
		return add
	}
	out := make([]xattr, 0, len(old)+len(add))
	i, j := 0, 0
	for i < len(old) || j < len(add) {
		switch {
		case j == len(add) || (i < len(old) && old[i].name < add[j].name):
			out = append(out, old[i])
			i++
		case i == len(old) || add[j].name < old[i].name:
			out = append(out, add[j])
			j++
		default: // same name: the new value wins
			out = append(out, add[j])
			i++
			j++
		}
	}
	return out
}

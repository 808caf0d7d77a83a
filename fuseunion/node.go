package fuseunion

import (
	"context"
	"sync"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"golang.org/x/sys/unix"
)

// node is one inode of the union. What it is made of (an upper entry, lower
// entries) is cached in st and recomputed from its parent when the union's
// generation moved on.
type node struct {
	fs.Inode
	u *union

	mu    sync.Mutex
	st    nstate
	gen   uint64
	opens int // open file handles, for deferring meta cleanup
	// tmpfd holds an O_TMPFILE node's upper file until it is linked.
	tmpfd int
	// dropMeta: the upper file was unlinked while open; forget its meta
	// at the last release.
	dropMeta uint64
}

// nstate is what a union name resolves to.
type nstate struct {
	kind  kind
	upper bool // an upper entry exists at the node's path
	// lowers are the lower entries shown at this name, topmost first: for
	// a directory every merged lower directory (cut at an opaque one), for
	// anything else the one shown (only when not in the upper).
	lowers []layerRef
	// le is the lower entry whose metadata the union shows, from layer
	// top: the topmost, unless that is a directory the layer never
	// described (the layer package's Implicit) and a lower one describes it.
	le  lentry
	top layerRef
	// lowerHasName: some lower shows an entry here (also when the upper
	// hides it), so removing the name needs a whiteout.
	lowerHasName bool
}

type layerRef struct {
	layer int
	ref   lref
}

var (
	_ fs.InodeEmbedder = (*node)(nil)
	_ fs.NodeLookuper  = (*node)(nil)
	_ fs.NodeGetattrer = (*node)(nil)
)

func (u *union) newNode(s nstate) *node {
	return &node{u: u, st: s, gen: u.gen.Load(), tmpfd: -1}
}

// path is the node's path in the union ("" for the root).
func (n *node) path() string {
	if n.IsRoot() {
		return ""
	}
	return n.Path(n.Root())
}

func (n *node) parentNode() *node {
	_, p := n.Parent()
	if p == nil {
		return nil
	}
	return p.Operations().(*node)
}

// state returns the node's current resolution.
func (n *node) state() (nstate, syscall.Errno) {
	g := n.u.gen.Load()
	n.mu.Lock()
	if n.gen == g {
		s := n.st
		n.mu.Unlock()
		return s, 0
	}
	n.mu.Unlock()
	if n.IsRoot() {
		s, err := n.u.rootState()
		if err != 0 {
			return nstate{}, err
		}
		n.setState(s, g)
		return s, 0
	}
	name, p := n.Parent()
	if p == nil {
		// Unlinked: keep what it was.
		n.mu.Lock()
		defer n.mu.Unlock()
		return n.st, 0
	}
	pn := p.Operations().(*node)
	ps, errno := pn.state()
	if errno != 0 {
		return nstate{}, errno
	}
	s, errno := n.u.lookupIn(pn.path(), &ps, name)
	if errno != 0 {
		return nstate{}, errno
	}
	n.setState(s, g)
	return s, 0
}

func (n *node) setState(s nstate, g uint64) {
	n.mu.Lock()
	n.st, n.gen = s, g
	n.mu.Unlock()
}

func (u *union) rootState() (nstate, syscall.Errno) {
	s := nstate{kind: kindDir, upper: !u.readonly()}
	for i, l := range u.lowers {
		ref, e, err := l.root()
		if err != nil {
			return nstate{}, fs.ToErrno(err)
		}
		if len(s.lowers) == 0 || (s.le.implicit && !e.implicit) {
			s.le, s.top = e, layerRef{i, ref}
		}
		s.lowers = append(s.lowers, layerRef{i, ref})
		s.lowerHasName = true
		if e.opaque {
			break
		}
	}
	if s.upper && u.upperDirOpaque("") {
		s.lowers = nil
	}
	return s, 0
}

// lookupIn resolves name in the directory at dirPath whose state is ps,
// as overlayfs does: the upper first, then each lower down to a whiteout,
// an opaque directory or a non-directory.
func (u *union) lookupIn(dirPath string, ps *nstate, name string) (nstate, syscall.Errno) {
	var s nstate
	if len(name) > maxNameLen {
		return s, syscall.ENAMETOOLONG
	}
	if isWhiteoutName(name) {
		return s, syscall.ENOENT
	}
	p := joinPath(dirPath, name)
	opaque := false
	if ps.upper {
		// One open of the parent serves the stat and, for a name the
		// upper lacks, the look for its whiteout.
		var st unix.Stat_t
		whiteout := false
		a, err := beneath(u.upper, p)
		if err == nil {
			err = unix.Fstatat(a.fd, a.name, &st, unix.AT_SYMLINK_NOFOLLOW)
			if err == unix.ENOENT && len(ps.lowers) > 0 {
				whiteout = hasWhiteoutAt(a.fd, name)
			}
			a.close()
		}
		switch {
		case err == nil && isUpperWhiteout(&st):
			return s, syscall.ENOENT
		case err == nil:
			s.upper = true
			s.kind = u.upperKind(&st)
			if s.kind != kindDir {
				s.lowerHasName = u.lowersHave(ps, name)
				return s, 0
			}
		case err == unix.ENOENT:
			if len(ps.lowers) == 0 || whiteout {
				return s, syscall.ENOENT
			}
		case err == unix.ENOTDIR:
			return s, syscall.ENOENT
		default:
			return s, fs.ToErrno(err)
		}
	}
	for _, lr := range ps.lowers {
		ref, e, err := u.lowers[lr.layer].lookup(lr.ref, name)
		if err == unix.ENOENT || err == unix.ENOTDIR {
			continue
		}
		if err != nil {
			return nstate{}, fs.ToErrno(err)
		}
		if e.kind == kindWhiteout {
			break
		}
		s.lowerHasName = true
		if s.kind == kindNone {
			s.kind = e.kind
		} else if e.kind != kindDir {
			break // a directory above hides a non-directory below
		}
		if s.upper && len(s.lowers) == 0 && !opaque {
			// An upper directory merges with lower ones unless opaque;
			// only worth checking now that a lower has the name.
			if opaque = u.upperDirOpaque(p); opaque {
				break
			}
		}
		if len(s.lowers) == 0 || (s.le.implicit && !e.implicit) {
			s.le, s.top = e, layerRef{lr.layer, ref}
		}
		s.lowers = append(s.lowers, layerRef{lr.layer, ref})
		if e.kind != kindDir || e.opaque {
			break
		}
	}
	if s.kind == kindNone {
		return s, syscall.ENOENT
	}
	return s, 0
}

// fixDirNlink reports a merged directory's link count as 1 ("unknown"),
// as overlayfs does: its subdirectories are spread over layers.
func (s *nstate) fixDirNlink(a *fuse.Attr) {
	if s.kind == kindDir && (len(s.lowers) > 1 || (s.upper && len(s.lowers) > 0)) {
		a.Nlink = 1
	}
}

// lowersHave reports whether a lower of directory ps shows name.
func (u *union) lowersHave(ps *nstate, name string) bool {
	for _, lr := range ps.lowers {
		_, e, err := u.lowers[lr.layer].lookup(lr.ref, name)
		if err != nil {
			continue
		}
		return e.kind != kindWhiteout
	}
	return false
}

// Lookup implements fs.NodeLookuper.
func (n *node) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	ps, errno := n.state()
	if errno != 0 {
		return nil, errno
	}
	if ps.kind != kindDir {
		return nil, syscall.ENOTDIR
	}
	s, errno := n.u.lookupIn(n.path(), &ps, name)
	if errno != 0 {
		return nil, errno
	}
	return n.u.childInode(ctx, n, joinPath(n.path(), name), s, out)
}

// childInode makes (or finds, for a hard link seen before) the inode for a
// resolved child and fills out its attributes.
func (u *union) childInode(ctx context.Context, parent *node, path string, s nstate, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	var ino uint64
	if s.upper {
		st, err := u.upperStat(path)
		if err != nil {
			return nil, fs.ToErrno(err)
		}
		ino = u.upperIno(st.Ino)
		u.fillUpperAttr(&st, ino, &out.Attr)
	} else {
		ino = u.lowerIno(s.top.layer, s.le.ident)
		u.fillLowerAttr(&s.le, ino, &out.Attr)
	}
	s.fixDirNlink(&out.Attr)
	child := parent.NewInode(ctx, u.newNode(s), fs.StableAttr{Mode: s.kind.typeBits(), Ino: ino})
	cn := child.Operations().(*node)
	if cn.gen != u.gen.Load() || (s.upper && !cn.st.upper) {
		cn.setState(s, u.gen.Load())
	}
	return child, 0
}

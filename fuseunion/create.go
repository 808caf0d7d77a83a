package fuseunion

import (
	"context"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"golang.org/x/sys/unix"
)

var (
	_ = (fs.NodeCreater)((*node)(nil))
	_ = (fs.NodeMkdirer)((*node)(nil))
	_ = (fs.NodeMknoder)((*node)(nil))
	_ = (fs.NodeSymlinker)((*node)(nil))
	_ = (fs.NodeLinker)((*node)(nil))
	_ = (fs.NodeTmpfiler)((*node)(nil))
)

// newEntry is a name about to be created in directory n. Everything about
// it is done relative to one fd of the upper parent directory.
type newEntry struct {
	dir      string // the directory's union path
	path     string // the new entry's union path
	name     string
	pfd      int    // O_PATH fd of the upper parent directory
	whiteout bool   // the upper holds a whiteout for the name, to remove after
	hidden   bool   // a lower has the name under a whiteout
	uid, gid uint32 // the owner the new entry gets
	setgid   bool   // the directory is setgid
	parent   *node
}

// at names the new entry for the *at system calls.
func (e *newEntry) at() at { return at{fd: e.pfd, name: e.name} }

func (e *newEntry) close() { unix.Close(e.pfd) }

// prepareCreate checks that name can be created in n, copies n up, and
// works out the new entry's owner: the caller, with the directory's group
// when it is setgid (the kernel leaves that to FUSE servers). The caller
// closes the entry.
func (n *node) prepareCreate(ctx context.Context, name string) (*newEntry, syscall.Errno) {
	if err := validName(name); err != nil {
		return nil, fs.ToErrno(err)
	}
	u := n.u
	if u.readonly() {
		return nil, syscall.EROFS
	}
	ps, errno := n.state()
	if errno != 0 {
		return nil, errno
	}
	if ps.kind != kindDir {
		return nil, syscall.ENOTDIR
	}
	if !ps.upper && u.lowersHave(&ps, name) {
		return nil, syscall.EEXIST // and no copy-up for a failed create
	}
	if errno := u.copyUp(n, true); errno != 0 {
		return nil, errno
	}
	dir := n.path()
	pfd, err := openDirBeneath(u.upper, dir)
	if err != nil {
		return nil, fs.ToErrno(err)
	}
	e := &newEntry{dir: dir, path: joinPath(dir, name), name: name, pfd: pfd, parent: n}
	var st unix.Stat_t
	switch err := unix.Fstatat(pfd, name, &st, unix.AT_SYMLINK_NOFOLLOW); {
	case err == nil && isUpperWhiteout(&st):
		e.whiteout = true
	case err == nil:
		e.close()
		return nil, syscall.EEXIST
	case err != unix.ENOENT:
		e.close()
		return nil, fs.ToErrno(err)
	}
	if !e.whiteout && len(ps.lowers) > 0 {
		if len(name)+len(whiteoutPrefix) <= maxNameLen {
			e.whiteout = unix.Fstatat(pfd, whiteoutName(name), &st, unix.AT_SYMLINK_NOFOLLOW) == nil
		}
		if !e.whiteout && u.lowersHave(&ps, name) {
			e.close()
			return nil, syscall.EEXIST
		}
	}
	e.hidden = e.whiteout
	if c, ok := fuse.FromContext(ctx); ok {
		e.uid, e.gid = u.ids.in(c.Uid, c.Gid)
	}
	if err := unix.Fstat(pfd, &st); err == nil {
		if m := u.metaOf(&st); m.Mode&unix.S_ISGID != 0 {
			e.gid, e.setgid = m.Gid, true
		}
	}
	return e, 0
}

// upperHasCharWhiteout reports an overlayfs-style whiteout at path.
func (u *union) upperHasCharWhiteout(path string) bool {
	st, err := u.upperStat(path)
	return err == nil && isUpperWhiteout(&st)
}

// finish records the new upper entry's meta, drops the whiteout it
// replaces, and returns its inode.
func (e *newEntry) finish(ctx context.Context, k kind, m meta, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	u := e.parent.u
	var st unix.Stat_t
	if err := unix.Fstatat(e.pfd, e.name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return nil, fs.ToErrno(err)
	}
	m.Uid, m.Gid = e.uid, e.gid
	if err := u.recordMeta(&st, m); err != nil {
		return nil, fs.ToErrno(err)
	}
	if e.whiteout && len(e.name)+len(whiteoutPrefix) <= maxNameLen {
		// The upper entry already hides the lower one, so a crash
		// before this leaves a consistent view.
		if err := unix.Unlinkat(e.pfd, whiteoutName(e.name), 0); err != nil && err != unix.ENOENT {
			return nil, fs.ToErrno(err)
		}
	}
	ino := u.freshIno()
	u.bindUpperIno(st.Ino, ino)
	u.fillUpperAttr(&st, ino, &out.Attr)
	s := nstate{kind: k, upper: true, lowerHasName: e.hidden}
	return e.parent.NewInode(ctx, u.newNode(s), fs.StableAttr{Mode: k.typeBits(), Ino: ino}), 0
}

// dropWhiteout removes the whiteout of a name that now exists in the upper
// (the upper entry already hides the lower one, so a crash in between
// leaves a consistent view).
func (u *union) dropWhiteout(dir, path string) syscall.Errno {
	_, name := splitPath(path)
	if len(name)+len(whiteoutPrefix) <= maxNameLen {
		a, err := beneath(u.upper, joinPath(dir, whiteoutName(name)))
		if err != nil {
			return fs.ToErrno(err)
		}
		err = unix.Unlinkat(a.fd, a.name, 0)
		a.close()
		if err != nil && err != unix.ENOENT {
			return fs.ToErrno(err)
		}
	}
	return 0
}

// Create implements fs.NodeCreater.
func (n *node) Create(ctx context.Context, name string, flags uint32, mode uint32, out *fuse.EntryOut) (*fs.Inode, fs.FileHandle, uint32, syscall.Errno) {
	e, errno := n.prepareCreate(ctx, name)
	if errno != 0 {
		return nil, nil, 0, errno
	}
	defer e.close()
	a := e.at()
	if e.whiteout {
		// An overlayfs-style whiteout occupies the name itself.
		unix.Unlinkat(a.fd, a.name, 0)
	}
	perm := mode & 0o7777
	fd, err := unix.Openat(a.fd, a.name, unix.O_CREAT|unix.O_EXCL|unix.O_RDWR|unix.O_NOFOLLOW|unix.O_CLOEXEC, hostFileMode(perm))
	if err != nil {
		return nil, nil, 0, fs.ToErrno(err)
	}
	if err := n.u.fixHostMode(fd, hostFileMode(perm)); err != nil {
		unix.Close(fd)
		unix.Unlinkat(a.fd, a.name, 0)
		return nil, nil, 0, fs.ToErrno(err)
	}
	ch, errno := e.finish(ctx, kindReg, meta{Mode: unix.S_IFREG | perm}, out)
	if errno != 0 {
		unix.Close(fd)
		unix.Unlinkat(a.fd, a.name, 0)
		return nil, nil, 0, errno
	}
	return ch, ch.Operations().(*node).newUpperFile(fd), fuse.FOPEN_KEEP_CACHE, 0
}

// fixHostMode undoes the server's own umask on a file it just created.
func (u *union) fixHostMode(fd int, mode uint32) error {
	if mode&u.umask == 0 {
		return nil
	}
	return unix.Fchmod(fd, mode)
}

// Mkdir implements fs.NodeMkdirer. Over a whiteout the new directory is
// made opaque, so the lower directory's entries stay hidden; it is built in
// the work dir and renamed into place so it never shows them.
func (n *node) Mkdir(ctx context.Context, name string, mode uint32, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	e, errno := n.prepareCreate(ctx, name)
	if errno != 0 {
		return nil, errno
	}
	defer e.close()
	u := n.u
	perm := mode & 0o7777
	if e.setgid {
		perm |= unix.S_ISGID
	}
	a := e.at()
	if !e.hidden {
		if err := unix.Mkdirat(a.fd, a.name, hostDirMode(perm)); err != nil {
			return nil, fs.ToErrno(err)
		}
	} else if err := u.mkdirOpaque(a); err != nil {
		return nil, fs.ToErrno(err)
	}
	if err := unix.Fchmodat(a.fd, a.name, hostDirMode(perm), 0); err != nil {
		u.removeUpperTree(e.path)
		return nil, fs.ToErrno(err)
	}
	return e.finish(ctx, kindDir, meta{Mode: unix.S_IFDIR | perm}, out)
}

// mkdirOpaque creates an opaque directory at a through the work dir.
func (u *union) mkdirOpaque(a at) error {
	tmp := u.tmpName()
	if err := unix.Mkdirat(u.work, tmp, 0o700); err != nil {
		return err
	}
	fd, err := unix.Openat(u.work, tmp+"/"+opaqueMarker, unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY|unix.O_CLOEXEC, 0o600)
	if err == nil {
		unix.Close(fd)
		// An overlayfs-style whiteout may occupy the name itself.
		var st unix.Stat_t
		if unix.Fstatat(a.fd, a.name, &st, unix.AT_SYMLINK_NOFOLLOW) == nil && isUpperWhiteout(&st) {
			unix.Unlinkat(a.fd, a.name, 0)
		}
		err = unix.Renameat(u.work, tmp, a.fd, a.name)
	}
	if err != nil {
		unix.Unlinkat(u.work, tmp+"/"+opaqueMarker, 0)
		unix.Unlinkat(u.work, tmp, unix.AT_REMOVEDIR)
	}
	return err
}

// Mknod implements fs.NodeMknoder. FIFOs and sockets are real; device
// nodes are empty regular files whose type and number live in the meta
// store (an unprivileged server cannot mknod them). A 0:0 character device
// is overlayfs's whiteout and refused, as overlayfs refuses it.
func (n *node) Mknod(ctx context.Context, name string, mode uint32, dev uint32, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	k := kindOf(mode)
	if k == kindChar && dev == 0 {
		return nil, syscall.EPERM
	}
	if k == kindNone || k == kindDir || k == kindSymlink {
		return nil, syscall.EINVAL
	}
	e, errno := n.prepareCreate(ctx, name)
	if errno != 0 {
		return nil, errno
	}
	defer e.close()
	a := e.at()
	if e.whiteout {
		unix.Unlinkat(a.fd, a.name, 0)
	}
	perm := mode & 0o7777
	m := meta{Mode: k.typeBits() | perm}
	var err error
	switch k {
	case kindFifo, kindSocket:
		err = unix.Mknodat(a.fd, a.name, k.typeBits()|hostFileMode(perm), 0)
	case kindReg:
		var fd int
		if fd, err = unix.Openat(a.fd, a.name, unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY|unix.O_CLOEXEC, hostFileMode(perm)); err == nil {
			unix.Close(fd)
		}
	default:
		m.Rdev = uint64(dev)
		var fd int
		if fd, err = unix.Openat(a.fd, a.name, unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY|unix.O_CLOEXEC, 0o600); err == nil {
			unix.Close(fd)
		}
	}
	if err != nil {
		return nil, fs.ToErrno(err)
	}
	if k != kindChar && k != kindBlock {
		unix.Fchmodat(a.fd, a.name, hostFileMode(perm), 0)
	}
	ch, errno := e.finish(ctx, k, m, out)
	if errno != 0 {
		unix.Unlinkat(a.fd, a.name, 0)
	}
	return ch, errno
}

// Symlink implements fs.NodeSymlinker.
func (n *node) Symlink(ctx context.Context, target, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	e, errno := n.prepareCreate(ctx, name)
	if errno != 0 {
		return nil, errno
	}
	defer e.close()
	a := e.at()
	if e.whiteout {
		unix.Unlinkat(a.fd, a.name, 0)
	}
	if err := unix.Symlinkat(target, a.fd, a.name); err != nil {
		return nil, fs.ToErrno(err)
	}
	ch, errno := e.finish(ctx, kindSymlink, meta{Mode: unix.S_IFLNK | 0o777}, out)
	if errno != 0 {
		unix.Unlinkat(a.fd, a.name, 0)
	}
	return ch, errno
}

// Link implements fs.NodeLinker: the target is copied up (with its whole
// link group) and linked in the upper, so both names keep one inode.
func (n *node) Link(ctx context.Context, target fs.InodeEmbedder, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	t, ok := target.(*node)
	if !ok {
		return nil, syscall.EXDEV
	}
	u := n.u
	e, errno := n.prepareCreate(ctx, name)
	if errno != 0 {
		return nil, errno
	}
	defer e.close()
	ts, errno := t.state()
	if errno != 0 {
		return nil, errno
	}
	if ts.kind == kindDir {
		return nil, syscall.EPERM
	}
	b := e.at()
	var err error
	if e.whiteout {
		unix.Unlinkat(b.fd, b.name, 0)
	}
	if t.tmpfd >= 0 {
		err = unix.Linkat(unix.AT_FDCWD, fdPath(t.tmpfd), b.fd, b.name, unix.AT_SYMLINK_FOLLOW)
	} else {
		if errno := u.copyUp(t, true); errno != 0 {
			return nil, errno
		}
		if t.parentNode() == nil {
			return nil, syscall.ENOENT
		}
		a, aerr := beneath(u.upper, t.path())
		if aerr != nil {
			return nil, fs.ToErrno(aerr)
		}
		err = unix.Linkat(a.fd, a.name, b.fd, b.name, 0)
		a.close()
	}
	if err != nil {
		return nil, fs.ToErrno(err)
	}
	if e.whiteout {
		if errno := u.dropWhiteout(e.dir, e.path); errno != 0 {
			return nil, errno
		}
	}
	var st unix.Stat_t
	if err := unix.Fstatat(b.fd, b.name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return nil, fs.ToErrno(err)
	}
	if t.tmpfd >= 0 {
		t.mu.Lock()
		unix.Close(t.tmpfd)
		t.tmpfd = -1
		t.st = nstate{kind: kindReg, upper: true, lowerHasName: e.hidden}
		t.mu.Unlock()
	}
	u.fillUpperAttr(&st, t.StableAttr().Ino, &out.Attr)
	return t.EmbeddedInode(), 0
}

// Tmpfile implements fs.NodeTmpfiler (open with O_TMPFILE): an unnamed
// upper file, kept open by the node until it is linked or forgotten.
func (n *node) Tmpfile(ctx context.Context, flags uint32, mode uint32, out *fuse.EntryOut) (*fs.Inode, fs.FileHandle, uint32, syscall.Errno) {
	u := n.u
	if u.readonly() {
		return nil, nil, 0, syscall.EROFS
	}
	if errno := u.copyUp(n, true); errno != 0 {
		return nil, nil, 0, errno
	}
	dfd, err := openDirBeneath(u.upper, n.path())
	if err != nil {
		return nil, nil, 0, fs.ToErrno(err)
	}
	defer unix.Close(dfd)
	perm := mode & 0o7777
	fd, err := unix.Openat(dfd, ".", unix.O_TMPFILE|unix.O_RDWR|unix.O_CLOEXEC, hostFileMode(perm))
	if err != nil {
		return nil, nil, 0, fs.ToErrno(err)
	}
	keep, err := unix.Dup(fd)
	if err != nil {
		unix.Close(fd)
		return nil, nil, 0, fs.ToErrno(err)
	}
	var st unix.Stat_t
	unix.Fstat(fd, &st)
	m := meta{Mode: unix.S_IFREG | perm}
	if c, ok := fuse.FromContext(ctx); ok {
		m.Uid, m.Gid = u.ids.in(c.Uid, c.Gid)
	}
	u.recordMeta(&st, m)
	ino := u.freshIno()
	u.bindUpperIno(st.Ino, ino)
	u.fillUpperAttr(&st, ino, &out.Attr)
	nn := u.newNode(nstate{kind: kindReg})
	nn.tmpfd = keep
	ch := n.NewInode(ctx, nn, fs.StableAttr{Mode: unix.S_IFREG, Ino: ino})
	return ch, nn.newUpperFile(fd), fuse.FOPEN_KEEP_CACHE, 0
}

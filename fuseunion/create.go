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

// newEntry is a name about to be created in directory n.
type newEntry struct {
	dir      string // the directory's union path
	path     string // the new entry's union path
	whiteout bool   // the upper holds a whiteout for the name, to remove after
	hidden   bool   // a lower has the name under a whiteout
	uid, gid uint32 // the owner the new entry gets
	parent   *node
}

// prepareCreate checks that name can be created in n, copies n up, and
// works out the new entry's owner: the caller, with the directory's group
// when it is setgid (the kernel leaves that to FUSE servers).
func (n *node) prepareCreate(ctx context.Context, name string) (newEntry, syscall.Errno) {
	if err := validName(name); err != nil {
		return newEntry{}, fs.ToErrno(err)
	}
	u := n.u
	if u.readonly() {
		return newEntry{}, syscall.EROFS
	}
	ps, errno := n.state()
	if errno != 0 {
		return newEntry{}, errno
	}
	if ps.kind != kindDir {
		return newEntry{}, syscall.ENOTDIR
	}
	dir := n.path()
	if _, errno := u.lookupIn(dir, &ps, name); errno == 0 {
		return newEntry{}, syscall.EEXIST
	} else if errno != syscall.ENOENT {
		return newEntry{}, errno
	}
	if errno := u.copyUp(n, true); errno != 0 {
		return newEntry{}, errno
	}
	e := newEntry{dir: dir, path: joinPath(dir, name), parent: n}
	e.whiteout = u.upperHasWhiteout(dir, name) || u.upperHasCharWhiteout(e.path)
	e.hidden = e.whiteout || u.lowersHave(&ps, name)
	if c, ok := fuse.FromContext(ctx); ok {
		e.uid, e.gid = c.Uid, c.Gid
	}
	var pa fuse.AttrOut
	if errno := n.Getattr(ctx, nil, &pa); errno == 0 && pa.Mode&unix.S_ISGID != 0 {
		e.gid = pa.Gid
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
	st, err := u.upperStat(e.path)
	if err != nil {
		return nil, fs.ToErrno(err)
	}
	m.Uid, m.Gid = e.uid, e.gid
	if err := u.recordMeta(&st, m); err != nil {
		u.removeUpper(e.path, k == kindDir)
		return nil, fs.ToErrno(err)
	}
	if e.whiteout {
		if errno := u.dropWhiteout(e.dir, e.path); errno != 0 {
			return nil, errno
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

func (u *union) removeUpper(path string, dir bool) {
	a, err := beneath(u.upper, path)
	if err != nil {
		return
	}
	defer a.close()
	flags := 0
	if dir {
		flags = unix.AT_REMOVEDIR
	}
	unix.Unlinkat(a.fd, a.name, flags)
}

// Create implements fs.NodeCreater.
func (n *node) Create(ctx context.Context, name string, flags uint32, mode uint32, out *fuse.EntryOut) (*fs.Inode, fs.FileHandle, uint32, syscall.Errno) {
	e, errno := n.prepareCreate(ctx, name)
	if errno != 0 {
		return nil, nil, 0, errno
	}
	a, err := beneath(n.u.upper, e.path)
	if err != nil {
		return nil, nil, 0, fs.ToErrno(err)
	}
	defer a.close()
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
	u := n.u
	perm := mode & 0o7777
	if pa := (fuse.AttrOut{}); n.Getattr(ctx, nil, &pa) == 0 && pa.Mode&unix.S_ISGID != 0 {
		perm |= unix.S_ISGID
	}
	a, err := beneath(u.upper, e.path)
	if err != nil {
		return nil, fs.ToErrno(err)
	}
	defer a.close()
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
	a, err := beneath(n.u.upper, e.path)
	if err != nil {
		return nil, fs.ToErrno(err)
	}
	defer a.close()
	if e.whiteout {
		unix.Unlinkat(a.fd, a.name, 0)
	}
	perm := mode & 0o7777
	m := meta{Mode: k.typeBits() | perm}
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
	a, err := beneath(n.u.upper, e.path)
	if err != nil {
		return nil, fs.ToErrno(err)
	}
	defer a.close()
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
	ts, errno := t.state()
	if errno != 0 {
		return nil, errno
	}
	if ts.kind == kindDir {
		return nil, syscall.EPERM
	}
	b, err := beneath(u.upper, e.path)
	if err != nil {
		return nil, fs.ToErrno(err)
	}
	defer b.close()
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
		m.Uid, m.Gid = c.Uid, c.Gid
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

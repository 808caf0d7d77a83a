package fuseunion

import (
	"syscall"

	"github.com/hanwen/go-fuse/v2/fuse"
)

// noOpendir answers OPENDIR with ENOSYS, which makes the kernel stop sending
// OPENDIR and RELEASEDIR for the whole mount and cache every directory's
// listing (FOPEN_CACHE_DIR | FOPEN_KEEP_CACHE is its default then). A warm
// tree walk is thereby one GETATTR per directory instead of three round
// trips. go-fuse's fs bridge serves directory reads only on a handle, so
// each handle-less READDIR is served on a handle opened and released
// in-process for the one request; the listing is taken afresh for it and
// offsets stay valid across requests (seekdir to the kernel's offset).
type noOpendir struct {
	fuse.RawFileSystem
}

func (w noOpendir) OpenDir(cancel <-chan struct{}, in *fuse.OpenIn, out *fuse.OpenOut) fuse.Status {
	return fuse.ENOSYS
}

func (w noOpendir) ReadDir(cancel <-chan struct{}, in *fuse.ReadIn, out *fuse.DirEntryList) fuse.Status {
	return w.onHandle(cancel, in, func(in *fuse.ReadIn) fuse.Status {
		return w.RawFileSystem.ReadDir(cancel, in, out)
	})
}

func (w noOpendir) ReadDirPlus(cancel <-chan struct{}, in *fuse.ReadIn, out *fuse.DirEntryList) fuse.Status {
	return w.onHandle(cancel, in, func(in *fuse.ReadIn) fuse.Status {
		return w.RawFileSystem.ReadDirPlus(cancel, in, out)
	})
}

func (w noOpendir) ReleaseDir(in *fuse.ReleaseIn) {
	if in.Fh != 0 {
		w.RawFileSystem.ReleaseDir(in)
	}
}

func (w noOpendir) FsyncDir(cancel <-chan struct{}, in *fuse.FsyncIn) fuse.Status {
	if in.Fh != 0 {
		return w.RawFileSystem.FsyncDir(cancel, in)
	}
	return w.withHandle(cancel, in.InHeader, func(fh uint64) fuse.Status {
		in2 := *in
		in2.Fh = fh
		return w.RawFileSystem.FsyncDir(cancel, &in2)
	})
}

// onHandle runs a directory read on a handle of its own when the kernel
// sent none.
func (w noOpendir) onHandle(cancel <-chan struct{}, in *fuse.ReadIn, read func(*fuse.ReadIn) fuse.Status) fuse.Status {
	if in.Fh != 0 {
		return read(in)
	}
	return w.withHandle(cancel, in.InHeader, func(fh uint64) fuse.Status {
		in2 := *in
		in2.Fh = fh
		return read(&in2)
	})
}

// withHandle opens a directory handle in-process for the length of f.
func (w noOpendir) withHandle(cancel <-chan struct{}, h fuse.InHeader, f func(fh uint64) fuse.Status) fuse.Status {
	var oo fuse.OpenOut
	st := w.RawFileSystem.OpenDir(cancel, &fuse.OpenIn{InHeader: h, Flags: syscall.O_RDONLY}, &oo)
	if !st.Ok() {
		return st
	}
	defer w.RawFileSystem.ReleaseDir(&fuse.ReleaseIn{InHeader: h, Fh: oo.Fh})
	return f(oo.Fh)
}

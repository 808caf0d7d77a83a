package fuseunion

import (
	"context"
	"sync"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"golang.org/x/sys/unix"
)

// The union asks for FUSE_HANDLE_KILLPRIV_V2: it clears setuid, setgid and
// security.capability itself on write, truncate and chown. Without it the
// kernel asks for security.capability (a GETXATTR round trip) before every
// write(2) to see whether there is anything to clear: 58 round trips for
// 58 small writes, where the union knows the answer from memory.
//
// The kernel's rules, which the union follows: a write or truncate clears
// setuid, and setgid when the group may execute, only when the kernel
// says so (the caller lacks CAP_FSETID: WRITE_KILL_SUIDGID,
// FATTR_KILL_SUIDGID, OPEN_KILL_SUIDGID); security.capability goes on
// every write.

// killFlags carries WRITE_KILL_SUIDGID from the raw WRITE request, which
// go-fuse's fs API does not pass to FileWriter.Write, to that Write: the
// bridge calls Write synchronously with a context whose Cancel is the
// request's own channel, so that channel is the key.
type killFlags struct{ m sync.Map }

func (k *killFlags) set(cancel <-chan struct{}) { k.m.Store(cancel, true) }

func (k *killFlags) take(ctx context.Context) bool {
	c, ok := ctx.(*fuse.Context)
	if !ok || c.Cancel == nil {
		return false
	}
	_, ok = k.m.LoadAndDelete(c.Cancel)
	return ok
}

// killPrivWrites passes WRITE_KILL_SUIDGID on through killFlags.
type killPrivWrites struct {
	fuse.RawFileSystem
	flags *killFlags
}

func (w killPrivWrites) Write(cancel <-chan struct{}, in *fuse.WriteIn, data []byte) (uint32, fuse.Status) {
	if in.WriteFlags&fuse.WRITE_KILL_SUIDGID != 0 {
		w.flags.set(cancel)
		defer w.flags.m.Delete(cancel)
	}
	return w.RawFileSystem.Write(cancel, in, data)
}

func (w killPrivWrites) Writev(cancel <-chan struct{}, in *fuse.WriteIn, data [][]byte) (uint32, fuse.Status) {
	if in.WriteFlags&fuse.WRITE_KILL_SUIDGID != 0 {
		w.flags.set(cancel)
		defer w.flags.m.Delete(cancel)
	}
	return w.RawFileSystem.Writev(cancel, in, data)
}

// killPrivOnWrite clears what a write clears on the upper file fd: its
// security.capability always, setuid and setgid when suidgid (the kernel
// said the writer lacks CAP_FSETID). Only entries with a meta record can
// hold any of them (the host files never carry those bits).
func (u *union) killPrivOnWrite(fd int, hostIno uint64, suidgid bool) syscall.Errno {
	m, ok := u.metas.get(hostIno)
	if !ok {
		return 0
	}
	_, hasCap := m.Xattrs[capabilityXattr]
	if !hasCap && (!suidgid || m.Mode&(unix.S_ISUID|unix.S_ISGID) == 0) {
		return 0
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return fs.ToErrno(err)
	}
	return u.killPrivs(&st, suidgid)
}

// killPrivs clears security.capability of an upper entry that is not a
// directory and, when suidgid, setuid and (when the group may execute)
// setgid, as chown and writes do on any non-directory.
func (u *union) killPrivs(st *unix.Stat_t, suidgid bool) syscall.Errno {
	m := u.metaOf(st)
	if m.Mode&unix.S_IFMT == unix.S_IFDIR {
		return 0 // directories keep setgid: it is inheritance there
	}
	changed := false
	if _, ok := m.Xattrs[capabilityXattr]; ok {
		xa := make(map[string][]byte, len(m.Xattrs))
		for k, v := range m.Xattrs {
			if k != capabilityXattr {
				xa[k] = v
			}
		}
		m.Xattrs, changed = xa, true
	}
	if suidgid {
		kill := uint32(unix.S_ISUID)
		if m.Mode&unix.S_IXGRP != 0 {
			kill |= unix.S_ISGID
		}
		if m.Mode&kill != 0 {
			m.Mode &^= kill
			changed = true
		}
	}
	if !changed {
		return 0
	}
	return fs.ToErrno(u.recordMeta(st, m))
}

const capabilityXattr = "security.capability"

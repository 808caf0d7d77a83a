// nook: this file is not in upstream go-fuse; see ../PATCH.md.

package fuse

import (
	"syscall"
	"unsafe"
)

// handledInline reports whether a request is answered by the reader that
// read it without first starting a spare reader, and whether that reader
// may then retire when another reader is already waiting.
//
// Upstream starts a spare reader whenever the last waiting one takes a
// request, so that a request that blocks never stops the others. For a
// stream of one request at a time (a process that opens, stats and
// closes file after file) that leaves two readers taking turns: every
// request wakes the thread that has slept longer, and with both threads
// parked in read(2) the runtime's sysmon keeps retaking their Ps and
// polling every 20 µs. Served by a single reader, as a C server does,
// such a stream costs about 13% less per request (third_party/go-fuse/PATCH.md).
//
// These are the requests a union filesystem answers from memory or with
// one short system call on a local file: lookups, attributes, link
// targets, xattrs, listings, opens for reading and the releases and
// forgets. Anything that moves data, writes, syncs or may copy a file up
// (an open for writing or truncation) still gets a spare reader first.
// A request answered inline that is slow only delays the requests behind
// it; it cannot deadlock, as long as the filesystem never calls into its
// own mount while answering, which is true of nook's.
func handledInline(opCode uint32, input []byte) bool {
	switch opCode {
	case _OP_LOOKUP, _OP_GETATTR, _OP_READLINK, _OP_ACCESS, _OP_STATFS,
		_OP_GETXATTR, _OP_LISTXATTR, _OP_READDIR, _OP_READDIRPLUS,
		_OP_RELEASE, _OP_RELEASEDIR, _OP_FORGET, _OP_BATCH_FORGET, _OP_INTERRUPT:
		return true
	case _OP_OPEN:
		if len(input) < int(unsafe.Sizeof(OpenIn{})) {
			return false
		}
		flags := (*OpenIn)(unsafe.Pointer(&input[0])).Flags
		return flags&(syscall.O_ACCMODE|syscall.O_TRUNC) == syscall.O_RDONLY
	}
	return false
}

// othersWaiting reports whether another reader is waiting in read(2).
func (r *fuseFD) othersWaiting() bool {
	r.reqMu.Lock()
	defer r.reqMu.Unlock()
	return r.reqReaders > 0
}

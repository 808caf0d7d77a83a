// nook: this file is not in upstream go-fuse; see ../PATCH.md.

package fuse

// handledInline reports whether a request is answered by the reader that
// read it without first starting a spare reader; after such a request the
// reader retires if another reader is already waiting.
//
// Upstream starts a spare reader whenever the last waiting one takes a
// request, so that a request that blocks never stops the others. For a
// stream of one request at a time (a process that opens, stats and closes
// file after file, or creates them) that leaves two readers taking turns,
// or starts a goroutine and wakes a thread per request: every request
// wakes the thread that has slept longer, and with both threads parked in
// read(2) the runtime's sysmon keeps retaking their Ps and polling every
// 20 µs. Served by a single reader, as a C server does, such a stream
// costs about 20% less per request (../PATCH.md).
//
// So every request is answered inline except those that wait for a disk
// or for another process: reads (a cold layer), syncs, locks, polls,
// fallocate and copy_file_range. A filesystem that is about to do
// something slow while answering another request (nook: copying a file
// up; an ioctl that waits, of which nook has none: every IOCTL, such as
// the TCGETS an interpreter sends for each file it opens, gets ENOTTY at
// once) calls Server.SpareReader first. A request answered inline that is
// slow all the same only delays the requests queued behind it; it cannot
// deadlock as long as the filesystem never waits, while answering, for
// another request of its own mount, which is true of nook's.
func handledInline(opCode uint32) bool {
	switch opCode {
	case _OP_READ, _OP_FSYNC, _OP_FSYNCDIR, _OP_SYNCFS, _OP_FALLOCATE,
		_OP_COPY_FILE_RANGE, _OP_COPY_FILE_RANGE_64, _OP_GETLK, _OP_SETLK,
		_OP_SETLKW, _OP_POLL, _OP_BMAP:
		return false
	}
	return true
}

// SpareReader makes sure that a reader other than the caller waits for
// requests. A request handler calls it before work that may take long
// (copying a large file), so that the mount keeps answering meanwhile.
func (ms *Server) SpareReader() {
	r := ms.fuseFD
	if r == nil || ms.singleReader {
		return
	}
	r.reqMu.Lock()
	defer r.reqMu.Unlock()
	if r.reqReaders > 0 || !r.canReserveRequestBytes() {
		return
	}
	r.loops.Add(1)
	go ms.loop()
}

// othersWaiting reports whether another reader is waiting in read(2).
func (r *fuseFD) othersWaiting() bool {
	r.reqMu.Lock()
	defer r.reqMu.Unlock()
	return r.reqReaders > 0
}

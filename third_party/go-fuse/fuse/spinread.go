// nook: this file is not in upstream go-fuse; see ../PATCH.md.

package fuse

import (
	"runtime"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// spinFor is how long a reader keeps asking for the next request before it
// sleeps in the kernel.
//
// A process that sends one request at a time (a tree walk, a module
// import, tar) waits for each answer asleep, and so does the server for
// the next request. In a VM each of those sleeps idles a virtual CPU, and
// waking it costs tens of microseconds (measured on 2-core VMs: a cold
// find over 9,445 entries was idle 40% of its time). The next request of
// such a stream comes within a few tens of microseconds of the answer, so
// a reader that keeps reading for spinFor before it sleeps takes it at
// once, and the wake-up is paid on the process's side only. An idle mount
// costs nothing: the reader sleeps after spinFor. Between reads the
// spinning reader yields to the Go scheduler and its CPU, so it takes no
// time from a goroutine or thread that wants it.
const spinFor = 50 * time.Microsecond

// read reads one request from the FUSE fd, which is non-blocking: the
// first reader to get here retries for spinFor, then sleeps in poll(2)
// like the others.
func (r *fuseFD) read(fd int, dest []byte) (int, error) {
	if r.spinning.CompareAndSwap(false, true) {
		start := time.Now()
		for {
			n, err := syscall.Read(fd, dest)
			if err != syscall.EAGAIN {
				r.spinning.Store(false)
				return n, err
			}
			if time.Since(start) > spinFor {
				break
			}
			// Let a goroutine of this process (a port driver's copy
			// loop, in nook's monitor) and a thread waiting for this
			// CPU (the workload, its network helper) run first: spin
			// only on a CPU nothing else wants.
			runtime.Gosched()
			syscall.Syscall(syscall.SYS_SCHED_YIELD, 0, 0, 0)
		}
		r.spinning.Store(false)
	}
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	for {
		n, err := syscall.Read(fd, dest)
		if err != syscall.EAGAIN {
			return n, err
		}
		if _, err := unix.Poll(fds, -1); err != nil && err != unix.EINTR {
			return 0, err
		}
	}
}

package fuseunion

import (
	"container/list"
	"sync"

	"golang.org/x/sys/unix"
)

// maxIdleLowerFds bounds how many host files of one directory lower stay
// open while no handle uses them.
const maxIdleLowerFds = 64

// lowerFds keeps a directory lower's host files open between the union's
// opens of them. A lower never changes, so one fd per file serves every
// handle (reads use explicit offsets), and opening a file that a process
// opens, reads and closes again and again (a web server's page, an
// interpreter's module) costs no host openat and close each time, as a
// tar lower's shared fd costs none. The files no handle uses are kept in
// LRU order, at most maxIdleLowerFds of them.
type lowerFds struct {
	mu     sync.Mutex
	byPath map[string]*lowerFd
	idle   list.List // of *lowerFd with users == 0, most recently used first
}

type lowerFd struct {
	path  string
	fd    int
	users int
	elem  *list.Element // in idle, while users == 0
}

// get returns an open fd of path and the function that gives it back, or
// ok false when none is open.
func (c *lowerFds) get(path string) (fd int, release func(), ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.byPath[path]
	if e == nil {
		return -1, nil, false
	}
	c.use(e)
	return e.fd, func() { c.put(e) }, true
}

// add records fd, just opened for path, and returns the fd to use (another
// one, when a concurrent open recorded path first) and its release.
func (c *lowerFds) add(path string, fd int) (int, func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.byPath[path]; e != nil {
		unix.Close(fd)
		c.use(e)
		return e.fd, func() { c.put(e) }
	}
	if c.byPath == nil {
		c.byPath = map[string]*lowerFd{}
	}
	e := &lowerFd{path: path, fd: fd, users: 1}
	c.byPath[path] = e
	return fd, func() { c.put(e) }
}

func (c *lowerFds) use(e *lowerFd) {
	if e.users == 0 {
		c.idle.Remove(e.elem)
		e.elem = nil
	}
	e.users++
}

func (c *lowerFds) put(e *lowerFd) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e.users--
	if e.users > 0 {
		return
	}
	e.elem = c.idle.PushFront(e)
	for c.idle.Len() > maxIdleLowerFds {
		old := c.idle.Remove(c.idle.Back()).(*lowerFd)
		delete(c.byPath, old.path)
		unix.Close(old.fd)
	}
}

// closeAll closes every fd; the lower is being closed, so none is in use.
func (c *lowerFds) closeAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range c.byPath {
		unix.Close(e.fd)
	}
	c.byPath = nil
	c.idle.Init()
}

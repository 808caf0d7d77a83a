package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
)

// The initramfs is a cpio archive in the "newc" format the kernel unpacks
// (Documentation/driver-api/early-userspace/buffer-format.rst). Writing it
// here rather than with cpio(1) lets each entry carry the owner and mode
// the VM needs (setuid root newuidmap, the user's files) without root.

// cpioWriter writes newc entries; Close adds the trailer.
type cpioWriter struct {
	w   *bufio.Writer
	off int64
	ino uint32
}

func newCPIOWriter(w io.Writer) *cpioWriter {
	return &cpioWriter{w: bufio.NewWriterSize(w, 1<<20)}
}

// Mode bits of the file type, as in the kernel's stat.h.
const (
	cpioDir     = 0o040000
	cpioFile    = 0o100000
	cpioSymlink = 0o120000
	cpioChar    = 0o020000
)

// header writes one entry's header and name; the data follows.
func (c *cpioWriter) header(name string, mode, uid, gid uint32, size int64, rmajor, rminor uint32) error {
	c.ino++
	nlink := uint32(1)
	if mode&0o170000 == cpioDir {
		nlink = 2
	}
	return c.headerIno(name, mode, uid, gid, size, rmajor, rminor, c.ino, nlink)
}

// headerIno is header with the inode number and link count given: the
// kernel links a regular file to an earlier one with the same inode
// number when its link count is 2 or more.
func (c *cpioWriter) headerIno(name string, mode, uid, gid uint32, size int64, rmajor, rminor, ino, nlink uint32) error {
	if size > 0xffffffff {
		return fmt.Errorf("%s: %d bytes is too big for a cpio entry", name, size)
	}
	// ino mode uid gid nlink mtime filesize devmajor devminor rdevmajor
	// rdevminor namesize check, each as 8 hex digits.
	fields := []uint32{ino, mode, uid, gid, nlink, 0, uint32(size), 0, 0, rmajor, rminor, uint32(len(name) + 1), 0}
	if _, err := c.write([]byte("070701")); err != nil {
		return err
	}
	for _, f := range fields {
		if _, err := c.write(fmt.Appendf(nil, "%08x", f)); err != nil {
			return err
		}
	}
	if _, err := c.write(append([]byte(name), 0)); err != nil {
		return err
	}
	return c.pad()
}

func (c *cpioWriter) write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.off += int64(n)
	return n, err
}

// pad aligns to 4 bytes, as newc wants after a name and after data.
func (c *cpioWriter) pad() error {
	if n := (4 - c.off%4) % 4; n > 0 {
		_, err := c.write(make([]byte, n))
		return err
	}
	return nil
}

// Dir adds a directory.
func (c *cpioWriter) Dir(name string, perm, uid, gid uint32) error {
	return c.header(name, cpioDir|perm, uid, gid, 0, 0, 0)
}

// Symlink adds a symbolic link to target.
func (c *cpioWriter) Symlink(name, target string) error {
	if err := c.header(name, cpioSymlink|0o777, 0, 0, int64(len(target)), 0, 0); err != nil {
		return err
	}
	if _, err := c.write([]byte(target)); err != nil {
		return err
	}
	return c.pad()
}

// CharDev adds a character device node.
func (c *cpioWriter) CharDev(name string, perm, major, minor uint32) error {
	return c.header(name, cpioChar|perm, 0, 0, 0, major, minor)
}

// Bytes adds a regular file holding data.
func (c *cpioWriter) Bytes(name string, perm, uid, gid uint32, data []byte) error {
	if err := c.header(name, cpioFile|perm, uid, gid, int64(len(data)), 0, 0); err != nil {
		return err
	}
	if _, err := c.write(data); err != nil {
		return err
	}
	return c.pad()
}

// File adds a regular file with the contents of the host file src.
func (c *cpioWriter) File(name string, perm, uid, gid uint32, src string) error {
	f, err := os.Open(src)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if err := c.header(name, cpioFile|perm, uid, gid, st.Size(), 0, 0); err != nil {
		return err
	}
	n, err := io.Copy(c.w, f)
	c.off += n
	if err != nil {
		return fmt.Errorf("copy %s: %w", src, err)
	}
	if n != st.Size() {
		return fmt.Errorf("copy %s: it changed size while being copied", src)
	}
	return c.pad()
}

// FileFrom adds a regular file of size bytes read from r. With linkable,
// later entries can be hard links to it (LinkTo with the returned inode
// number).
func (c *cpioWriter) FileFrom(name string, perm, uid, gid uint32, size int64, r io.Reader, linkable bool) (uint32, error) {
	c.ino++
	nlink := uint32(1)
	if linkable {
		nlink = 2
	}
	if err := c.headerIno(name, cpioFile|perm, uid, gid, size, 0, 0, c.ino, nlink); err != nil {
		return 0, err
	}
	n, err := io.Copy(c.w, io.LimitReader(r, size))
	c.off += n
	if err != nil {
		return 0, fmt.Errorf("copy %s: %w", name, err)
	}
	if n != size {
		return 0, fmt.Errorf("copy %s: %d bytes, want %d", name, n, size)
	}
	return c.ino, c.pad()
}

// LinkTo adds name as a hard link to the file added as inode ino (with
// FileFrom and linkable): same mode, no data.
func (c *cpioWriter) LinkTo(name string, perm, uid, gid, ino uint32) error {
	return c.headerIno(name, cpioFile|perm, uid, gid, 0, 0, 0, ino, 2)
}

// Close writes the trailer and flushes; it does not close the underlying
// writer.
func (c *cpioWriter) Close() error {
	if err := c.header("TRAILER!!!", 0, 0, 0, 0, 0, 0); err != nil {
		return err
	}
	return c.w.Flush()
}

package difftest

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// Every open is O_NONBLOCK: opening a fifo must not wait for a peer (for
// writing it then fails with ENXIO, for reading it sees end of file).

// op is one operation on a union, applied identically to every mount. Paths
// are relative to the mount point ("" is the root). Which fields matter
// depends on Kind:
//
//	create p mode [flags=excl]     open O_CREAT|O_WRONLY, close
//	write p off data [rep]         open O_WRONLY, pwrite, close
//	append p data [rep]            open O_WRONLY|O_APPEND, write, close
//	truncate p off                 truncate(2) to off bytes
//	otrunc p                       open O_WRONLY|O_TRUNC, close
//	read p                         read the whole file
//	mkdir p mode, rmdir p, unlink p, readdir p, stat p (lstat), readlink p
//	rename p q [flags=noreplace|exchange]
//	link p q                       new name q for p
//	symlink p q                    symlink at p pointing to q
//	mkfifo p mode
//	mknod p                        a 0:0 character device (table tests only)
//	chmod p mode
//	chown p uid gid [flags=nofollow]
//	utimes p sec nsec [flags=nofollow]   atime and mtime set to sec.nsec
//	setxattr p name value [flags=create|replace], rmxattr p name, getxattr p name, listxattr p
//
// as=UID runs the op with that fsuid and fsgid (no capabilities), so that
// permission checks are exercised; 0 (the default) is the namespace's root.
type op struct {
	Kind        string
	P, Q        string
	Data        string
	Rep         int
	Off         int64
	Mode        uint32
	Uid, Gid    int
	Flags       string
	Name, Value string
	Sec, Nsec   int64
	As          int
}

func (o op) String() string { return o.line().String() }

func (o op) line() line {
	l := line{kind: o.Kind, fields: map[string]string{"p": o.P}}
	set := func(k, v string, keep bool) {
		if keep {
			l.fields[k] = v
		}
	}
	set("q", o.Q, o.Q != "" || o.Kind == "symlink" || o.Kind == "rename" || o.Kind == "link")
	set("data", o.Data, o.Kind == "write" || o.Kind == "append")
	set("rep", fmt.Sprint(o.Rep), o.Rep > 1)
	set("off", fmt.Sprint(o.Off), o.Kind == "write" || o.Kind == "truncate")
	set("mode", fmt.Sprintf("%04o", o.Mode), o.Kind == "create" || o.Kind == "mkdir" || o.Kind == "mkfifo" || o.Kind == "chmod")
	set("uid", fmt.Sprint(o.Uid), o.Kind == "chown")
	set("gid", fmt.Sprint(o.Gid), o.Kind == "chown")
	set("flags", o.Flags, o.Flags != "")
	set("name", o.Name, o.Name != "")
	set("value", o.Value, o.Kind == "setxattr")
	set("time", formatTimespec(o.Sec, o.Nsec), o.Kind == "utimes")
	set("as", fmt.Sprint(o.As), o.As != 0)
	return l
}

func parseOp(l line) (op, error) {
	r := &fieldReader{l: l}
	o := op{Kind: l.kind, P: r.str("p", ""), Q: r.str("q", ""), Data: r.str("data", ""),
		Flags: r.str("flags", ""), Name: r.str("name", ""), Value: r.str("value", "")}
	o.Rep = int(r.int64("rep", 1, 10))
	o.Off = r.int64("off", 0, 10)
	o.Mode = uint32(r.int64("mode", 0o644, 8))
	o.Uid = int(r.int64("uid", 0, 10))
	o.Gid = int(r.int64("gid", 0, 10))
	o.As = int(r.int64("as", 0, 10))
	if s, ok := l.fields["time"]; ok {
		var err error
		if o.Sec, o.Nsec, err = parseTimespec(s); err != nil {
			return op{}, err
		}
	}
	r.known("p", "q", "data", "rep", "off", "mode", "uid", "gid", "flags", "name", "value", "time", "as")
	if r.err != nil {
		return op{}, r.err
	}
	if _, ok := opFuncs[o.Kind]; !ok {
		return op{}, fmt.Errorf("unknown op %q", o.Kind)
	}
	return o, nil
}

func parseOps(lines []line) ([]op, error) {
	ops := make([]op, 0, len(lines))
	for _, l := range lines {
		o, err := parseOp(l)
		if err != nil {
			return nil, err
		}
		ops = append(ops, o)
	}
	return ops, nil
}

func formatOps(ops []op) string {
	var b strings.Builder
	for _, o := range ops {
		b.WriteString(o.String())
		b.WriteByte('\n')
	}
	return b.String()
}

// result is what an op observably did: its errno and, for ops that look,
// what they saw.
type result struct {
	Errno syscall.Errno
	Out   string
}

func (r result) String() string {
	s := "ok"
	if r.Errno != 0 {
		s = unix.ErrnoName(r.Errno)
		if s == "" {
			s = r.Errno.Error()
		}
	}
	if r.Out != "" {
		s += " " + r.Out
	}
	return s
}

func errnoOf(err error) syscall.Errno {
	if err == nil {
		return 0
	}
	var e syscall.Errno
	if errors.As(err, &e) {
		return e
	}
	return syscall.EIO
}

type opFunc func(root string, o op) (string, error)

// opFuncs is filled in init to break the initialisation cycle with parseOp.
var opFuncs map[string]opFunc

func init() {
	opFuncs = map[string]opFunc{
		"create": func(root string, o op) (string, error) {
			flags := unix.O_CREAT | unix.O_WRONLY | unix.O_CLOEXEC | unix.O_NONBLOCK
			if o.Flags == "excl" {
				flags |= unix.O_EXCL
			}
			return "", openClose(root, o.P, flags, o.Mode, nil)
		},
		"write": func(root string, o op) (string, error) {
			return "", openClose(root, o.P, unix.O_WRONLY|unix.O_CLOEXEC|unix.O_NONBLOCK, 0, func(fd int) error {
				_, err := unix.Pwrite(fd, []byte(repData(o)), o.Off)
				return err
			})
		},
		"append": func(root string, o op) (string, error) {
			return "", openClose(root, o.P, unix.O_WRONLY|unix.O_APPEND|unix.O_CLOEXEC|unix.O_NONBLOCK, 0, func(fd int) error {
				_, err := unix.Write(fd, []byte(repData(o)))
				return err
			})
		},
		"otrunc": func(root string, o op) (string, error) {
			return "", openClose(root, o.P, unix.O_WRONLY|unix.O_TRUNC|unix.O_CLOEXEC|unix.O_NONBLOCK, 0, nil)
		},
		"truncate": func(root string, o op) (string, error) { return "", unix.Truncate(join(root, o.P), o.Off) },
		"read": func(root string, o op) (string, error) {
			var b []byte
			err := openClose(root, o.P, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NONBLOCK, 0, func(fd int) error {
				buf := make([]byte, 64*1024)
				for {
					n, err := unix.Read(fd, buf)
					if err != nil || n == 0 {
						return err
					}
					b = append(b, buf[:n]...)
				}
			})
			return describeData(b), err
		},
		"mkdir":  func(root string, o op) (string, error) { return "", unix.Mkdir(join(root, o.P), o.Mode) },
		"rmdir":  func(root string, o op) (string, error) { return "", unix.Rmdir(join(root, o.P)) },
		"unlink": func(root string, o op) (string, error) { return "", unix.Unlink(join(root, o.P)) },
		"rename": func(root string, o op) (string, error) {
			return "", unix.Renameat2(unix.AT_FDCWD, join(root, o.P), unix.AT_FDCWD, join(root, o.Q), renameFlags(o.Flags))
		},
		"link": func(root string, o op) (string, error) {
			return "", unix.Linkat(unix.AT_FDCWD, join(root, o.P), unix.AT_FDCWD, join(root, o.Q), 0)
		},
		"symlink": func(root string, o op) (string, error) { return "", unix.Symlink(o.Q, join(root, o.P)) },
		"mkfifo":  func(root string, o op) (string, error) { return "", unix.Mkfifo(join(root, o.P), o.Mode) },
		"mknod":   func(root string, o op) (string, error) { return "", unix.Mknod(join(root, o.P), unix.S_IFCHR|0o644, 0) },
		"chmod":   func(root string, o op) (string, error) { return "", unix.Chmod(join(root, o.P), o.Mode) },
		"chown": func(root string, o op) (string, error) {
			return "", unix.Fchownat(unix.AT_FDCWD, join(root, o.P), o.Uid, o.Gid, nofollow(o.Flags))
		},
		"utimes": func(root string, o op) (string, error) {
			ts := []unix.Timespec{{Sec: o.Sec, Nsec: o.Nsec}, {Sec: o.Sec, Nsec: o.Nsec}}
			return "", unix.UtimesNanoAt(unix.AT_FDCWD, join(root, o.P), ts, nofollow(o.Flags))
		},
		"setxattr": func(root string, o op) (string, error) {
			flags := 0
			switch o.Flags {
			case "create":
				flags = unix.XATTR_CREATE
			case "replace":
				flags = unix.XATTR_REPLACE
			}
			return "", unix.Lsetxattr(join(root, o.P), o.Name, []byte(o.Value), flags)
		},
		"rmxattr": func(root string, o op) (string, error) { return "", unix.Lremovexattr(join(root, o.P), o.Name) },
		"getxattr": func(root string, o op) (string, error) {
			buf := make([]byte, 65536)
			n, err := unix.Lgetxattr(join(root, o.P), o.Name, buf)
			if err != nil {
				return "", err
			}
			return fmt.Sprintf("%q", buf[:n]), nil
		},
		"listxattr": func(root string, o op) (string, error) {
			names, err := listXattrs(join(root, o.P))
			sort.Strings(names)
			return strings.Join(names, ","), unwrapPathErr(err)
		},
		"readdir": func(root string, o op) (string, error) {
			fd, err := unix.Open(join(root, o.P), unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
			if err != nil {
				return "", err
			}
			f := os.NewFile(uintptr(fd), o.P)
			defer f.Close()
			ents, err := f.ReadDir(-1)
			if err != nil {
				return "", err
			}
			names := make([]string, len(ents))
			for i, e := range ents {
				names[i] = e.Name() + "/" + typeName(e.Type())
			}
			sort.Strings(names)
			return "[" + strings.Join(names, " ") + "]", nil
		},
		"stat": func(root string, o op) (string, error) {
			var st unix.Stat_t
			if err := unix.Lstat(join(root, o.P), &st); err != nil {
				return "", err
			}
			s := fmt.Sprintf("%s mode=%04o uid=%d gid=%d", modeType(st.Mode), st.Mode&0o7777, st.Uid, st.Gid)
			if st.Mode&unix.S_IFMT != unix.S_IFDIR {
				s += fmt.Sprintf(" size=%d", st.Size)
			}
			return s, nil
		},
		"readlink": func(root string, o op) (string, error) {
			t, err := os.Readlink(join(root, o.P))
			return fmt.Sprintf("%q", t), err
		},
	}
}

// apply runs o on the union mounted at root.
func apply(root string, o op) result {
	fn := opFuncs[o.Kind]
	var out string
	var err error
	if o.As != 0 {
		err = asUser(o.As, func() error { out, err = fn(root, o); return err })
	} else {
		out, err = fn(root, o)
	}
	if err != nil {
		return result{Errno: errnoOf(err)}
	}
	return result{Out: out}
}

// asUser runs fn on a thread whose fsuid and fsgid are id, which also drops
// the capabilities that bypass permission checks. The thread is returned to
// the runtime only if it could be switched back to root.
func asUser(id int, fn func() error) error {
	runtime.LockOSThread()
	if err := unix.Setfsgid(id); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("setfsgid %d: %w", id, err)
	}
	unix.Setfsuid(id)
	err := fn()
	unix.Setfsuid(0)
	unix.Setfsgid(0)
	if uid, _ := unix.SetfsuidRetUid(-1); uid == 0 {
		runtime.UnlockOSThread()
	}
	return err
}

func openClose(root, p string, flags int, mode uint32, fn func(fd int) error) error {
	fd, err := unix.Open(join(root, p), flags, mode)
	if err != nil {
		return err
	}
	if fn != nil {
		err = fn(fd)
	}
	if cerr := unix.Close(fd); err == nil {
		err = cerr
	}
	return err
}

func join(root, p string) string {
	if p == "" {
		return root
	}
	return filepath.Join(root, p)
}

func repData(o op) string {
	if o.Rep > 1 {
		return strings.Repeat(o.Data, o.Rep)
	}
	return o.Data
}

func renameFlags(s string) uint {
	switch s {
	case "noreplace":
		return unix.RENAME_NOREPLACE
	case "exchange":
		return unix.RENAME_EXCHANGE
	}
	return 0
}

func nofollow(s string) int {
	if s == "nofollow" {
		return unix.AT_SYMLINK_NOFOLLOW
	}
	return 0
}

func unwrapPathErr(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// describeData summarises file contents: short ones verbatim, long ones by
// length and hash.
func describeData(b []byte) string {
	if len(b) <= 48 {
		return fmt.Sprintf("%q", b)
	}
	h := sha256.Sum256(b)
	return fmt.Sprintf("len=%d sha256=%x", len(b), h[:8])
}

func hashFile(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		return "", err
	}
	return describeData(b), nil
}

func modeType(m uint32) string {
	switch m & unix.S_IFMT {
	case unix.S_IFDIR:
		return "dir"
	case unix.S_IFREG:
		return "file"
	case unix.S_IFLNK:
		return "symlink"
	case unix.S_IFIFO:
		return "fifo"
	case unix.S_IFCHR:
		return "chardev"
	case unix.S_IFBLK:
		return "blockdev"
	case unix.S_IFSOCK:
		return "socket"
	}
	return fmt.Sprintf("type%o", m&unix.S_IFMT)
}

func typeName(m os.FileMode) string {
	switch {
	case m.IsDir():
		return "dir"
	case m.IsRegular():
		return "file"
	case m&os.ModeSymlink != 0:
		return "symlink"
	case m&os.ModeNamedPipe != 0:
		return "fifo"
	case m&os.ModeCharDevice != 0:
		return "chardev"
	case m&os.ModeDevice != 0:
		return "blockdev"
	case m&os.ModeSocket != 0:
		return "socket"
	}
	return "?"
}

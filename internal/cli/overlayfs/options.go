package overlayfs

import (
	"fmt"
	"strings"
)

// usageError is a command line that cannot be understood; its message says
// what was wrong and Run adds a pointer to --help.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{fmt.Sprintf(format, args...)}
}

// Options is what a nook-overlayfs command line asks for, before any file
// is looked at.
type Options struct {
	// Lowers are the lowerdir elements, topmost first, unescaped.
	Lowers []string
	// Upper and Work are upperdir and workdir, unescaped; empty if not given.
	Upper, Work string
	// Mountpoint is where the union goes: a directory or "/dev/fd/N".
	Mountpoint string
	// Source is the SOURCE of the mount.fuse3 convention or fsname=; it is
	// shown as the source in /proc/mounts.
	Source string

	Foreground bool
	Debug      bool
	// Volatile is -o volatile (kernel overlayfs) or -o fsync=0
	// (fuse-overlayfs): nothing is flushed to disk.
	Volatile bool
	// Flags are the per-mount flags asked for (ro, nosuid, nodev, noexec).
	Flags MountFlags

	Help, Version bool

	// Notices are one line each about options accepted but not acted on.
	Notices []string
}

// MountFlags are the VFS per-mount flags nook-overlayfs applies after
// mounting, as fuse-overlayfs gets them from libfuse.
type MountFlags struct {
	// ReadOnly is -o ro: the union takes no writes, and an upperdir is
	// served as its topmost lower layer.
	ReadOnly              bool
	NoSuid, NoDev, NoExec bool
}

// Parse reads a fuse-overlayfs style command line (without the program
// name). It accepts both
//
//	nook-overlayfs [-f] [-d] -o lowerdir=A:B,upperdir=U,workdir=W MOUNTPOINT
//	nook-overlayfs SOURCE MOUNTPOINT -o OPTIONS      (as mount.fuse3 runs it)
//
// Options and operands may come in any order, as with libfuse.
func Parse(args []string) (Options, error) {
	var o Options
	var operands []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			operands = append(operands, args[i+1:]...)
			i = len(args)
		case a == "-o":
			if i+1 == len(args) {
				return o, usagef("-o needs a value, e.g. -o lowerdir=DIR")
			}
			i++
			if err := o.addOptions(args[i]); err != nil {
				return o, err
			}
		case strings.HasPrefix(a, "-o"):
			if err := o.addOptions(a[2:]); err != nil {
				return o, err
			}
		case a == "-f":
			o.Foreground = true
		case a == "-d", a == "--debug":
			// As with fuse-overlayfs, debug output implies the foreground.
			o.Debug, o.Foreground = true, true
		case a == "-s":
			// libfuse's single-threaded mode: nothing to change in nook.
		case a == "-h", a == "--help":
			o.Help = true
		case a == "-V", a == "--version":
			o.Version = true
		case strings.HasPrefix(a, "-") && a != "-":
			return o, usagef("unknown flag %q", a)
		default:
			operands = append(operands, a)
		}
	}
	if o.Help || o.Version {
		return o, nil
	}
	switch len(operands) {
	case 0:
		return o, usagef("no mountpoint given")
	case 1:
		o.Mountpoint = operands[0]
	case 2:
		// mount.fuse3 passes "SOURCE MOUNTPOINT -o OPTIONS"; fsname= wins.
		if o.Source == "" {
			o.Source = operands[0]
		}
		o.Mountpoint = operands[1]
	default:
		return o, usagef("too many operands %q: want [SOURCE] MOUNTPOINT", operands)
	}
	if len(o.Lowers) == 0 {
		return o, usagef("no lowerdir given: add -o lowerdir=DIR[:DIR...] (topmost first)")
	}
	if o.Upper != "" && o.Work == "" {
		return o, usagef("upperdir needs a workdir: add -o workdir=DIR on the same filesystem as %s", o.Upper)
	}
	if o.Upper == "" && o.Work != "" {
		o.Notices = append(o.Notices, "ignoring workdir: it is used only together with upperdir")
		o.Work = ""
	}
	return o, nil
}

// Package overlayfs is the nook-overlayfs command: it mounts nook's union
// filesystem alone, with fuse-overlayfs's command line, so that external
// test suites, benchmarks, mount(8) and Podman's mount_program can drive it.
// cmd/nook-overlayfs only calls Main.
package overlayfs

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/nookrun/nook/internal/cli/buildinfo"
)

// Main runs nook-overlayfs with the process's arguments and returns its exit
// status. A re-executed daemon is recognised by os.Args[1] before anything
// is parsed.
func Main() int {
	if len(os.Args) > 1 && os.Args[1] == daemonRole {
		return runDaemon(os.Args[2:], os.Stderr)
	}
	return Run(os.Args[1:], os.Stdout, os.Stderr)
}

// Run runs nook-overlayfs with args (without the program name): 0 once the
// union is mounted (daemon) or after it was unmounted (-f), 1 on any error,
// printed as one line.
func Run(args []string, stdout, stderr io.Writer) int {
	fail := func(err error) int {
		var ue *usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(stderr, "nook-overlayfs: %s (see nook-overlayfs --help)\n", ue.msg)
		} else {
			fmt.Fprintf(stderr, "nook-overlayfs: %s\n", oneLine(err))
		}
		return 1
	}
	o, err := Parse(args)
	if err != nil {
		return fail(err)
	}
	switch {
	case o.Help:
		fmt.Fprint(stdout, usage)
		return 0
	case o.Version:
		fmt.Fprintf(stdout, "nook-overlayfs: version %s\nGo version %s\n", buildinfo.Version(), buildinfo.GoVersion())
		return 0
	}
	for _, n := range o.Notices {
		fmt.Fprintf(stderr, "nook-overlayfs: %s\n", n)
	}
	p, err := check(o)
	if err != nil {
		return fail(err)
	}
	if !o.Foreground {
		if err := startDaemon(args, stderr); err != nil {
			return fail(err)
		}
		return 0
	}
	if err := serve(p, stderr, func() {}); err != nil {
		return fail(err)
	}
	return 0
}

const usage = `usage: nook-overlayfs [options] MOUNTPOINT
       nook-overlayfs SOURCE MOUNTPOINT -o OPTIONS   (as mount.fuse3 runs it)

Mounts a copy-on-write union of read-only lower layers and one writable upper
directory on MOUNTPOINT, with fuse-overlayfs's command line. Without -f it
returns once the mount is live and serves it in the background; unmount with
umount MOUNTPOINT (root, or inside unshare -Urm) or fusermount3 -u MOUNTPOINT.

    -h   --help            print help
    -V   --version         print version
    -d   -o debug          log every FUSE request (implies -f)
    -f                     stay in the foreground; SIGTERM or SIGINT unmounts
    -o lowerdir=A[:B...]   read-only layers, topmost first; each a directory or
                           an indexed layer tar (X.tar with X.idx beside it,
                           made by 'nook layer index'); '\:' is a colon and
                           '\,' a comma inside a path
    -o upperdir=DIR        the writable layer; without it the union is read-only
    -o workdir=DIR         scratch space on the same filesystem as upperdir
    -o ro                  read-only union; an upperdir is shown as a lower
    -o nosuid,nodev,noexec per-mount flags, applied after mounting
    -o fsname=NAME         the source shown in /proc/mounts
    -o volatile, fsync=0   never flush the upper to disk (the workload's fsync
                           returns at once): for an upper thrown away after use

Directory lowers understand every whiteout form: OCI .wh.NAME and
.wh..wh..opq, overlayfs 0:0 character devices, and the trusted.overlay.opaque
and user.overlay.opaque xattrs.

Accepted and ignored, as Podman, mount(8) and libfuse pass them: rw, dev, suid,
exec, atime and friends, allow_other, default_permissions, threaded=,
writeback=, timeout=, userxattr, xino=, index=, metacopy=, static_nlink,
noacl, context=, redirect_dir=off, x-*. uidmapping=, gidmapping= (other than
identity), squash_to_root, squash_to_uid=, squash_to_gid=, noxattrs=1,
xattr_permissions= and plugins= are accepted with a notice: nook serves the
ids and xattrs stored in the layers.

Podman: set mount_program = "/path/to/nook-overlayfs" under
[storage.options.overlay] in ~/.config/containers/storage.conf.
`

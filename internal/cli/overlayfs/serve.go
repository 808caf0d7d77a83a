package overlayfs

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"

	"golang.org/x/sys/unix"

	"github.com/nookrun/nook/fuseunion"
)

// serve mounts the union of p, tells a supervisor (notifyReady) and calls
// ready once the mount is live, and serves it until it is unmounted from
// outside (umount, fusermount3 -u) or a SIGTERM, SIGINT or SIGHUP arrives,
// which unmounts it. Notices go to stderr before ready is called.
func serve(p plan, stderr io.Writer, ready func()) error {
	// Catch the signals before mounting so that one arriving during the
	// mount still ends in an unmount rather than a dead server.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, unix.SIGTERM, unix.SIGINT, unix.SIGHUP)
	defer signal.Stop(sigs)

	lowers, err := openLowers(p.lowers)
	if err != nil {
		return err
	}
	// From here the union owns the lowers and closes them when it ends; if
	// Mount fails the process exits, which releases them.
	srv, err := fuseunion.Mount(p.mountpoint, fuseunion.Config{
		Lowers:   lowers,
		Upper:    p.upper,
		Work:     p.work,
		FsName:   p.fsName,
		Debug:    p.debug,
		Volatile: p.volatile,
	})
	if err != nil {
		return fmt.Errorf("mount union on %s: %w", p.mountpoint, err)
	}
	if err := applyFlags(p.mountpoint, p.flags); err != nil {
		fmt.Fprintf(stderr, "nook-overlayfs: %v\n", err)
	}
	if err := notifyReady(); err != nil {
		fmt.Fprintf(stderr, "nook-overlayfs: %v\n", err)
	}
	ready()

	done := make(chan struct{})
	go func() {
		srv.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-sigs:
	}
	if isFuseFD(p.mountpoint) {
		// The caller mounted the descriptor and unmounts it; exiting
		// closes our end of the connection.
		return nil
	}
	if err := srv.Unmount(); err != nil {
		// Busy: detach it now, as libfuse does, and keep serving the files
		// still open until they are closed.
		if derr := detach(p.mountpoint); derr != nil {
			return fmt.Errorf("unmount %s: %v; lazy unmount: %w", p.mountpoint, err, derr)
		}
	}
	select {
	case <-done:
		return nil
	case <-sigs:
		return fmt.Errorf("second signal: exiting while files on %s are still open", p.mountpoint)
	}
}

func openLowers(specs []lowerSpec) ([]fuseunion.Lower, error) {
	lowers := make([]fuseunion.Lower, 0, len(specs))
	for _, s := range specs {
		open := fuseunion.OpenDirLower
		if s.tar {
			open = fuseunion.OpenTarLower
		}
		l, err := open(s.path)
		if err != nil {
			for _, l := range lowers {
				l.Close()
			}
			return nil, fmt.Errorf("open lowerdir %s: %w", s.path, err)
		}
		lowers = append(lowers, l)
	}
	return lowers, nil
}

// detach lazily unmounts mp: directly when this process may (root, or root
// of a user namespace owning the mount), else through fusermount3 as an
// unprivileged user must.
func detach(mp string) error {
	err := unix.Unmount(mp, unix.MNT_DETACH)
	if err == nil || (err != unix.EPERM && err != unix.EACCES) {
		return err
	}
	for _, bin := range []string{"fusermount3", "fusermount"} {
		path, lerr := exec.LookPath(bin)
		if lerr != nil {
			continue
		}
		out, rerr := exec.Command(path, "-u", "-z", mp).CombinedOutput()
		if rerr != nil {
			return fmt.Errorf("%s -u -z %s: %v: %s", bin, mp, rerr, out)
		}
		return nil
	}
	return err
}

package hostcheck

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/nookrun/nook/internal/fsinfo"
	"github.com/nookrun/nook/internal/runtimedir"
)

// lowSpace is where free space in the store becomes a warning: a small
// image and a few containers' writes.
const lowSpace = 1 << 30

func storeSection(cfg Config) Section {
	b := newSection("storage")
	root := cfg.StoreRoot
	if cfg.StoreRootErr != nil || root == "" {
		err := cfg.StoreRootErr
		if err == nil {
			err = errors.New("no store path given")
		}
		b.add(Problem, "store", "unknown: "+err.Error(), "set HOME (or XDG_DATA_HOME), or use --root DIR")
		return runtimeDirChecks(b, cfg)
	}
	b.info("store", root)
	const otherRoot = "use --root DIR with a directory of yours on another filesystem"
	existing := existingAncestor(root)
	fs, err := fsinfo.Type(existing)
	if err != nil {
		b.add(Problem, "store filesystem", err.Error(), otherRoot)
		return runtimeDirChecks(b, cfg)
	}
	name := fs.Name
	if fs.MountType != "" && fs.MountType != fs.Name {
		name += " (" + fs.MountType + ")"
	}
	if fs.Network {
		name += ", a network filesystem"
	}
	b.info("store filesystem", name)
	if fi, err := os.Stat(existing); err == nil && !fi.IsDir() {
		b.add(Problem, "store writable", "no: "+existing+" is not a directory", otherRoot)
	} else if err := unix.Faccessat(unix.AT_FDCWD, existing, unix.W_OK|unix.X_OK, unix.AT_EACCESS); err != nil {
		b.add(Problem, "store writable", fmt.Sprintf("no: %s: %v", existing, err), otherRoot+", or make "+existing+" writable for you")
	} else if existing != root {
		b.ok("store writable", "yes (will be made in "+existing+")")
	} else {
		b.ok("store writable", "yes")
	}
	free := fmt.Sprintf("%s of %s", bytesIEC(fs.Avail), bytesIEC(fs.Size))
	if fs.Avail < lowSpace {
		b.add(Warning, "free space", free, "free some space, or "+otherRoot)
	} else {
		b.ok("free space", free)
	}
	if !fs.Network {
		b.ok("container uppers", "in the store ("+filepath.Join(root, "containers")+")")
	} else if nl, err := fsinfo.NodeLocal(cfg.UID); err != nil {
		b.add(Problem, "container uppers", dirErrValue(err), dirErrFix(err))
	} else {
		value := nl.Path + " (node-local, since the store is on " + fs.Name + ")"
		if nl.Skipped != "" {
			value += "; " + nl.Skipped
		}
		b.ok("container uppers", value)
	}
	return runtimeDirChecks(b, cfg)
}

func runtimeDirChecks(b *section, cfg Config) Section {
	info, err := runtimedir.Resolve(cfg.UID)
	switch {
	case err != nil:
		b.add(Problem, "runtime dir", dirErrValue(err), dirErrFix(err))
	case info.Fallback:
		b.ok("runtime dir", info.Path+" (fallback: "+strings.Join(info.Skipped, "; ")+")")
		// nook info made it only to look: leave nothing behind.
		_ = runtimedir.Cleanup(info.Path)
	default:
		b.ok("runtime dir", info.Path)
	}
	return b.s
}

// dirErrValue and dirErrFix split a runtimedir error into what is wrong
// and what to do.
func dirErrValue(err error) string {
	var ue *runtimedir.UnsafeError
	if errors.As(err, &ue) {
		return ue.Path + " " + ue.Problem
	}
	return err.Error()
}

func dirErrFix(err error) string {
	var ue *runtimedir.UnsafeError
	if errors.As(err, &ue) {
		return ue.Fix
	}
	return "set XDG_RUNTIME_DIR to a private directory of yours"
}

// existingAncestor returns path or its nearest ancestor that exists.
func existingAncestor(path string) string {
	p := filepath.Clean(path)
	for {
		if _, err := os.Stat(p); err == nil {
			return p
		}
		parent := filepath.Dir(p)
		if parent == p {
			return p
		}
		p = parent
	}
}

// bytesIEC formats n as "72.3 GiB".
func bytesIEC(n uint64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := uint64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

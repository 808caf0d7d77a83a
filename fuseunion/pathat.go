package fuseunion

import (
	"strings"

	"golang.org/x/sys/unix"
)

// chunkLen bounds one path handed to the kernel, well under PATH_MAX, so
// trees deeper than PATH_MAX are resolved a chunk of components at a time.
const chunkLen = 3072

// at names an entry as a directory fd plus a name in it, for the *at
// system calls. own says whether fd must be closed.
type at struct {
	fd   int
	name string
	own  bool
}

func (a at) close() {
	if a.own {
		unix.Close(a.fd)
	}
}

// splitPath splits a union-relative path into its directory and base name.
func splitPath(rel string) (dir, base string) {
	i := strings.LastIndexByte(rel, '/')
	if i < 0 {
		return "", rel
	}
	return rel[:i], rel[i+1:]
}

// joinPath joins a union-relative directory path and a name.
func joinPath(dir, name string) string {
	if dir == "" {
		return name
	}
	return dir + "/" + name
}

// openDirBeneath opens directory rel under root as an O_PATH fd. It never
// follows a symlink and never leaves root, so nothing the workload put in
// the upper can redirect the server to a host path, and it walks long paths
// in chunks.
func openDirBeneath(root int, rel string) (int, error) {
	how := unix.OpenHow{
		Flags:   unix.O_PATH | unix.O_DIRECTORY | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS | unix.RESOLVE_NO_XDEV,
	}
	if rel == "" {
		rel = "."
	}
	fd, own := root, false
	for rel != "" {
		chunk, rest := rel, ""
		if len(chunk) > chunkLen {
			i := strings.LastIndexByte(rel[:chunkLen], '/')
			if i <= 0 {
				if own {
					unix.Close(fd)
				}
				return -1, unix.ENAMETOOLONG
			}
			chunk, rest = rel[:i], rel[i+1:]
		}
		var nfd int
		var err error
		for {
			nfd, err = unix.Openat2(fd, chunk, &how)
			if err != unix.EAGAIN && err != unix.EINTR {
				break
			}
		}
		if own {
			unix.Close(fd)
		}
		if err != nil {
			return -1, err
		}
		fd, own, rel = nfd, true, rest
	}
	return fd, nil
}

// beneath returns an at for rel under root, opening its parent directory
// safely (see openDirBeneath). Used for the upper, which the workload writes.
func beneath(root int, rel string) (at, error) {
	dir, base := splitPath(rel)
	if dir == "" {
		if base == "" {
			base = "."
		}
		return at{fd: root, name: base}, nil
	}
	fd, err := openDirBeneath(root, dir)
	if err != nil {
		return at{}, err
	}
	return at{fd: fd, name: base, own: true}, nil
}

// direct returns an at for rel under root without opening its parent when
// the path is short enough for the kernel. Used for lower directories, which
// nothing changes while they are mounted.
func direct(root int, rel string) (at, error) {
	if rel == "" {
		return at{fd: root, name: "."}, nil
	}
	if len(rel) < chunkLen {
		return at{fd: root, name: rel}, nil
	}
	return beneath(root, rel)
}

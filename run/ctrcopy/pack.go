package ctrcopy

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"syscall"
	"time"
)

// PackOptions says how Pack reads SRC.
type PackOptions struct {
	// FollowLink archives the target of a symlink SRC under the link's
	// name (docker cp -L). Symlinks inside a directory stay links.
	FollowLink bool `json:"followLink,omitempty"`
	// Plain leaves out the PAX global header that carries Info, for a tar
	// meant for someone else (docker cp CONTAINER:SRC -). Unpack then
	// needs UnpackOptions.Src.
	Plain bool `json:"plain,omitempty"`
	// OnSkip, if set, hears of each entry left out: sockets, which tar
	// cannot hold.
	OnSkip func(name string, err error) `json:"-"`
}

// Pack writes a tar of src to w by Docker's rules: a file under its base
// name; a directory under its base name, recursively; "DIR/." as the
// directory's contents, its own entry named "./"; a symlink as itself
// unless FollowLink. Modes, nanosecond mtimes, ids as on disk, symlinks,
// hardlinks (as tar hardlinks to the first name), fifos and device nodes
// are kept. It reads from the current root, so it works alike on the host
// and inside a container.
func Pack(w io.Writer, src string, opts PackOptions) (Info, error) {
	s, err := resolveSource(src, opts.FollowLink)
	if err != nil {
		return Info{}, err
	}
	tw := tar.NewWriter(w)
	if !opts.Plain {
		if err := tw.WriteHeader(s.info.globalHeader()); err != nil {
			return Info{}, fmt.Errorf("copy from %s: write archive: %w", src, err)
		}
	}
	p := packer{tw: tw, links: map[fileID]string{}, onSkip: opts.OnSkip}
	if err := p.add(s.path, s.info.Name, s.fi); err != nil {
		return Info{}, fmt.Errorf("copy from %s: %w", src, err)
	}
	if err := tw.Close(); err != nil {
		return Info{}, fmt.Errorf("copy from %s: write archive: %w", src, err)
	}
	return s.info, nil
}

type fileID struct{ dev, ino uint64 }

type packer struct {
	tw     *tar.Writer
	links  map[fileID]string // first archive name of each multiply-linked file
	onSkip func(string, error)
}

// add writes the entry for file (whose lstat info is fi) as name, and a
// directory's entries below it.
func (p *packer) add(file, name string, fi fs.FileInfo) error {
	hdr, err := p.header(file, name, fi)
	if err != nil {
		return err
	}
	if hdr == nil {
		return nil
	}
	if err := p.tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("write entry for %s: %w", file, err)
	}
	switch {
	case hdr.Typeflag == tar.TypeReg:
		return p.body(file, hdr.Size)
	case fi.IsDir():
		return p.dir(file, name)
	}
	return nil
}

func (p *packer) dir(file, name string) error {
	ents, err := os.ReadDir(file)
	if err != nil {
		return fmt.Errorf("read directory %s: %w", file, unwrapPath(err))
	}
	for _, e := range ents {
		fi, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed since the directory was read
		}
		if err != nil {
			return fmt.Errorf("stat %s: %w", filepath.Join(file, e.Name()), unwrapPath(err))
		}
		if err := p.add(filepath.Join(file, e.Name()), path.Join(name, e.Name()), fi); err != nil {
			return err
		}
	}
	return nil
}

// header makes the tar header of one entry; nil means the entry is skipped.
func (p *packer) header(file, name string, fi fs.FileInfo) (*tar.Header, error) {
	var link string
	if fi.Mode()&fs.ModeSymlink != 0 {
		var err error
		if link, err = os.Readlink(file); err != nil {
			return nil, fmt.Errorf("read link %s: %w", file, unwrapPath(err))
		}
	}
	if fi.Mode()&fs.ModeSocket != 0 {
		if p.onSkip != nil {
			p.onSkip(name, errors.New("a socket cannot be archived"))
		}
		return nil, nil
	}
	hdr, err := tar.FileInfoHeader(fi, link)
	if err != nil {
		return nil, fmt.Errorf("archive %s: %w", file, err)
	}
	hdr.Name = name
	if fi.IsDir() {
		hdr.Name += "/"
	}
	// PAX keeps nanosecond mtimes and long names; atime and ctime would
	// only add a record to every entry.
	hdr.Format = tar.FormatPAX
	hdr.AccessTime, hdr.ChangeTime = time.Time{}, time.Time{}
	// Names of ids mean nothing on the other side of the copy.
	hdr.Uname, hdr.Gname = "", ""
	st, ok := fi.Sys().(*syscall.Stat_t)
	if ok && !fi.IsDir() && st.Nlink > 1 {
		id := fileID{uint64(st.Dev), st.Ino}
		if first, seen := p.links[id]; seen {
			hdr.Typeflag, hdr.Linkname, hdr.Size = tar.TypeLink, first, 0
			return hdr, nil
		}
		p.links[id] = name
	}
	return hdr, nil
}

// body copies a regular file's content: exactly the size in its header, so
// a file that grows while it is read is cut at that size; one that shrinks
// is an error, not a padded file.
func (p *packer) body(file string, size int64) error {
	f, err := os.OpenFile(file, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return fmt.Errorf("open %s: %w", file, unwrapPath(err))
	}
	defer f.Close()
	n, err := io.CopyN(p.tw, f, size)
	if errors.Is(err, io.EOF) {
		return fmt.Errorf("read %s: it shrank from %d to %d bytes while being copied", file, size, n)
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", file, err)
	}
	return nil
}

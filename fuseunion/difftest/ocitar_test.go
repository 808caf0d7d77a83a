package difftest

import (
	"archive/tar"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// writeOCITar writes the directory layer dir as an OCI layer tar: overlayfs
// whiteouts (0:0 char devices) become ".wh.NAME", user.overlay.opaque="y"
// becomes ".wh..wh..opq", hardlinks become TypeLink entries, user.* xattrs
// become SCHILY.xattr PAX records. PAX format keeps nanosecond mtimes.
func writeOCITar(w io.Writer, dir string) error {
	tw := tar.NewWriter(w)
	seen := map[[2]uint64]string{} // (dev, ino) → first name, for hardlinks
	err := filepath.WalkDir(dir, func(full string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, full)
		if err != nil || rel == "." {
			return err
		}
		rel = filepath.ToSlash(rel)
		var st unix.Stat_t
		if err := unix.Lstat(full, &st); err != nil {
			return err
		}
		hdr := &tar.Header{
			Name:    rel,
			Mode:    int64(st.Mode & 0o7777),
			Uid:     int(st.Uid),
			Gid:     int(st.Gid),
			ModTime: time.Unix(st.Mtim.Sec, st.Mtim.Nsec),
			Format:  tar.FormatPAX,
		}
		opaque := false
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFDIR:
			hdr.Typeflag, hdr.Name = tar.TypeDir, rel+"/"
			v := make([]byte, 8)
			n, err := unix.Getxattr(full, "user.overlay.opaque", v)
			opaque = err == nil && string(v[:n]) == "y"
		case unix.S_IFCHR:
			if st.Rdev != 0 {
				return fmt.Errorf("%s: only 0:0 character devices (whiteouts) belong in a test layer", rel)
			}
			hdr = &tar.Header{Typeflag: tar.TypeReg, Name: path.Join(path.Dir(rel), ".wh."+path.Base(rel)), Mode: 0o644, ModTime: hdr.ModTime, Format: tar.FormatPAX}
			return tw.WriteHeader(hdr)
		case unix.S_IFLNK:
			hdr.Typeflag = tar.TypeSymlink
			if hdr.Linkname, err = os.Readlink(full); err != nil {
				return err
			}
		case unix.S_IFIFO:
			hdr.Typeflag = tar.TypeFifo
		case unix.S_IFREG:
			key := [2]uint64{st.Dev, st.Ino}
			if first, ok := seen[key]; ok && st.Nlink > 1 {
				hdr.Typeflag, hdr.Linkname = tar.TypeLink, first
				return tw.WriteHeader(hdr)
			}
			seen[key] = rel
			hdr.Typeflag, hdr.Size = tar.TypeReg, st.Size
		default:
			return fmt.Errorf("%s: unexpected file type %#o in a test layer", rel, st.Mode&unix.S_IFMT)
		}
		if err := addXattrs(hdr, full); err != nil {
			return err
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if hdr.Typeflag == tar.TypeReg {
			f, err := os.Open(full)
			if err != nil {
				return err
			}
			_, err = io.Copy(tw, f)
			f.Close()
			if err != nil {
				return err
			}
		}
		if opaque {
			return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: rel + "/.wh..wh..opq", Mode: 0o644, ModTime: hdr.ModTime, Format: tar.FormatPAX})
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("convert layer dir %s to an OCI tar: %w", dir, err)
	}
	return tw.Close()
}

func addXattrs(hdr *tar.Header, full string) error {
	names, err := listXattrs(full)
	if err != nil {
		return err
	}
	for _, n := range names {
		if strings.HasPrefix(n, "user.overlay.") {
			continue
		}
		v, err := getXattr(full, n)
		if err != nil {
			return err
		}
		if hdr.PAXRecords == nil {
			hdr.PAXRecords = map[string]string{}
		}
		hdr.PAXRecords["SCHILY.xattr."+n] = v
	}
	return nil
}

// listXattrs returns the names of path's xattrs, not following symlinks.
func listXattrs(p string) ([]string, error) {
	buf := make([]byte, 4096)
	n, err := unix.Llistxattr(p, buf)
	if err != nil {
		return nil, fmt.Errorf("list xattrs of %s: %w", p, err)
	}
	var out []string
	for _, s := range strings.Split(string(buf[:n]), "\x00") {
		if s != "" {
			out = append(out, s)
		}
	}
	return out, nil
}

func getXattr(p, name string) (string, error) {
	buf := make([]byte, 65536)
	n, err := unix.Lgetxattr(p, name, buf)
	if err != nil {
		return "", fmt.Errorf("get xattr %s of %s: %w", name, p, err)
	}
	return string(buf[:n]), nil
}

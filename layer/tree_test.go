package layer

import (
	"bytes"
	"crypto/rand"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// TestGNUTarTree indexes real trees archived by GNU tar in its gnu and posix
// formats — a synthetic one with every kind of entry, and the system's
// zoneinfo (about 1,300 entries, hundreds of symlinks) — and compares every
// entry with the files themselves.
func TestGNUTarTree(t *testing.T) {
	src := t.TempDir()
	tree := filepath.Join(src, "tree")
	mkTree(t, tree)
	zone := "/usr/share/zoneinfo"
	if _, err := os.Stat(zone); err != nil {
		zone = ""
	}
	for name, args := range map[string][]string{
		"gnu":   {"--format=gnu"},
		"posix": {"--format=posix", "--xattrs", "--xattrs-include=user.*"},
	} {
		t.Run(name, func(t *testing.T) {
			l, _, _ := create(t, gnuTar(t, src, args, "tree"))
			compareTree(t, l, tree, "tree", name == "posix")
			if zone != "" {
				l, _, _ := create(t, gnuTar(t, filepath.Dir(zone), args, filepath.Base(zone)))
				compareTree(t, l, zone, filepath.Base(zone), false)
			}
		})
	}
}

func mkTree(t *testing.T, root string) {
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	write := func(p string, data []byte, mode os.FileMode) {
		t.Helper()
		must(os.MkdirAll(filepath.Dir(p), 0o755))
		must(os.WriteFile(p, data, 0o644))
		must(os.Chmod(p, mode))
	}
	big := make([]byte, 1<<20)
	rand.Read(big)
	write(filepath.Join(root, "bin/tool"), big, 0o755)
	write(filepath.Join(root, "bin/suid"), []byte("suid"), 0o4755|os.ModeSetuid)
	must(os.Chmod(filepath.Join(root, "bin/suid"), 0o755|os.ModeSetuid|os.ModeSetgid))
	write(filepath.Join(root, "empty"), nil, 0o600)
	write(filepath.Join(root, "names/with space"), []byte("s"), 0o644)
	write(filepath.Join(root, "names/new\nline"), []byte("n"), 0o644)
	write(filepath.Join(root, "names/ünïcödé-名前"), []byte("u"), 0o644)
	long := strings.Repeat("long-component-", 16) // 240 bytes
	write(filepath.Join(root, "deep", long, long, "file"), []byte("deep"), 0o644)
	must(os.MkdirAll(filepath.Join(root, "emptydir"), 0o755))
	must(os.MkdirAll(filepath.Join(root, "tmp"), 0o755))
	must(os.Chmod(filepath.Join(root, "tmp"), 0o777|os.ModeSticky))
	must(os.Symlink("tool", filepath.Join(root, "bin/rel-link")))
	must(os.Symlink("/usr/bin/env", filepath.Join(root, "bin/abs-link")))
	must(os.Symlink("../missing", filepath.Join(root, "bin/dangling")))
	must(os.Link(filepath.Join(root, "bin/tool"), filepath.Join(root, "bin/tool-hard")))
	must(os.Link(filepath.Join(root, "bin/tool"), filepath.Join(root, "names/tool-hard2")))
	must(unix.Mkfifo(filepath.Join(root, "fifo"), 0o640))
	sparseFile(t, filepath.Join(root, "sparse"), 4<<20, map[int64]int{1 << 20: 4096})
	if err := unix.Setxattr(filepath.Join(root, "empty"), "user.nook", []byte("value\x00bin"), 0); err != nil {
		t.Logf("no user xattrs here (%v); the xattr check is skipped", err)
	}
}

// compareTree checks that the layer holds exactly the tree at dir (stored
// under prefix) with the same kinds, modes, owners, sizes, mtimes, targets,
// contents, hardlink groups and (withXattrs) user xattrs.
func compareTree(t *testing.T, l *Layer, dir, prefix string, withXattrs bool) {
	t.Helper()
	type group struct {
		inode ID
		names uint32
	}
	groups := map[uint64]*group{}
	count := 0
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		name := prefix
		if rel != "." {
			name = prefix + "/" + rel
		}
		count++
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			return err
		}
		id, ok := lookup(l, name)
		if !ok {
			t.Errorf("%q missing", name)
			return nil
		}
		var e Entry
		l.Entry(id, &e)
		wantKind := map[uint32]Kind{unix.S_IFDIR: KindDir, unix.S_IFREG: KindReg, unix.S_IFLNK: KindSymlink, unix.S_IFIFO: KindFifo}[st.Mode&unix.S_IFMT]
		if e.Kind != wantKind || e.Implicit {
			t.Errorf("%q: kind %v implicit %v, want %v", name, e.Kind, e.Implicit, wantKind)
			return nil
		}
		if e.Kind != KindSymlink && e.Mode != st.Mode&0o7777 {
			t.Errorf("%q: mode %o, want %o", name, e.Mode, st.Mode&0o7777)
		}
		if e.Uid != st.Uid || e.Gid != st.Gid || e.Mtime.Sec != st.Mtim.Sec {
			t.Errorf("%q: %d:%d mtime %d, want %d:%d %d", name, e.Uid, e.Gid, e.Mtime.Sec, st.Uid, st.Gid, st.Mtim.Sec)
		}
		switch e.Kind {
		case KindSymlink:
			if target, _ := os.Readlink(p); e.Link != target {
				t.Errorf("%q: target %q, want %q", name, e.Link, target)
			}
		case KindReg:
			want, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			got := make([]byte, e.Size)
			n, _ := l.ReadAt(id, got, 0)
			if e.Size != st.Size || !bytes.Equal(got[:n], want) {
				t.Errorf("%q: content differs (size %d, want %d)", name, e.Size, st.Size)
			}
			if st.Nlink > 1 {
				g := groups[st.Ino]
				if g == nil {
					g = &group{inode: e.Inode}
					groups[st.Ino] = g
				}
				g.names++
				if e.Inode != g.inode || e.Nlink != uint32(st.Nlink) {
					t.Errorf("%q: inode %d nlink %d, want %d and %d", name, e.Inode, e.Nlink, g.inode, st.Nlink)
				}
			}
		}
		if withXattrs {
			buf := make([]byte, 256)
			if n, err := unix.Lgetxattr(p, "user.nook", buf); err == nil {
				var got []byte
				l.Xattrs(id, func(k string, v []byte) {
					if k == "user.nook" {
						got = append([]byte(nil), v...)
					}
				})
				if !bytes.Equal(got, buf[:n]) {
					t.Errorf("%q: user.nook %q, want %q", name, got, buf[:n])
				}
			} else if err != syscall.ENODATA && err != syscall.ENOTSUP {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if l.Len() != count+1 {
		t.Errorf("layer has %d entries, the tree %d (plus the root)", l.Len(), count)
	}
}

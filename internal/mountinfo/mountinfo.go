// Package mountinfo reads this process's mount table from
// /proc/self/mountinfo, for nook-overlayfs (the flags of its own mount),
// fsinfo (which filesystem a path is on), nook info (the cgroup mounts)
// and the testscripts (what a script mounted).
package mountinfo

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Mount is one line of /proc/self/mountinfo.
type Mount struct {
	// Major and Minor are the device numbers st_dev of files on it has.
	Major, Minor uint32
	// Root is the directory of the filesystem mounted at Point (not "/"
	// for a bind mount or a cgroup namespace's view).
	Root string
	// Point is where it is mounted; Source and FSType what is mounted
	// (FSType with its subtype: "ext4", "fuse.sshfs").
	Point, Source, FSType string
	// Options are the per-mount options (rw,nosuid,relatime...).
	Options string
}

// Read lists the mounts of this process's mount namespace in mount order.
func Read() ([]Mount, error) {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, fmt.Errorf("read mount table: %w", err)
	}
	return parse(b)
}

func parse(b []byte) ([]Mount, error) {
	var ms []Mount
	s := bufio.NewScanner(bytes.NewReader(b))
	s.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for s.Scan() {
		// "36 35 98:0 /root /mnt rw,noatime master:1 - ext3 /dev/root rw,errors=continue"
		pre, post, ok := strings.Cut(s.Text(), " - ")
		f, g := strings.Fields(pre), strings.Fields(post)
		if !ok || len(f) < 6 || len(g) < 2 {
			return nil, fmt.Errorf("read mount table: malformed line %q", s.Text())
		}
		maj, min, ok := strings.Cut(f[2], ":")
		ma, errMa := strconv.ParseUint(maj, 10, 32)
		mi, errMi := strconv.ParseUint(min, 10, 32)
		if !ok || errMa != nil || errMi != nil {
			return nil, fmt.Errorf("read mount table: malformed device %q in line %q", f[2], s.Text())
		}
		ms = append(ms, Mount{Major: uint32(ma), Minor: uint32(mi), Root: unescape(f[3]),
			Point: unescape(f[4]), Options: f[5], FSType: g[0], Source: unescape(g[1])})
	}
	if err := s.Err(); err != nil {
		return nil, fmt.Errorf("read mount table: %w", err)
	}
	return ms, nil
}

// At returns the topmost mount at dir, and whether there is one.
func At(dir string) (Mount, bool, error) {
	ms, err := Read()
	if err != nil {
		return Mount{}, false, err
	}
	for i := len(ms) - 1; i >= 0; i-- {
		if ms[i].Point == dir {
			return ms[i], true, nil
		}
	}
	return Mount{}, false, nil
}

// unescape undoes the kernel's octal escapes (\040 for a space, \134 for a
// backslash) in mountinfo's paths.
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && isOctal(s[i+1:i+4]) {
			b.WriteByte((s[i+1]-'0')<<6 | (s[i+2]-'0')<<3 | (s[i+3] - '0'))
			i += 3
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isOctal(s string) bool {
	return s[0] >= '0' && s[0] <= '3' && s[1] >= '0' && s[1] <= '7' && s[2] >= '0' && s[2] <= '7'
}

package fsinfo

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
	Root, Point string
	// FSType is the type with its subtype ("ext4", "fuse.sshfs"); Source
	// is what is mounted.
	FSType, Source string
}

// Mounts lists the mounts of this process's mount namespace in mount
// order.
func Mounts() ([]Mount, error) {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, fmt.Errorf("read mount table: %w", err)
	}
	ms, err := parseMountinfo(b)
	if err != nil {
		return nil, fmt.Errorf("read mount table: %w", err)
	}
	return ms, nil
}

func parseMountinfo(b []byte) ([]Mount, error) {
	var ms []Mount
	s := bufio.NewScanner(bytes.NewReader(b))
	s.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for s.Scan() {
		// "36 35 98:0 /root /mnt rw,noatime master:1 - ext3 /dev/root rw"
		pre, post, ok := strings.Cut(s.Text(), " - ")
		f, g := strings.Fields(pre), strings.Fields(post)
		if !ok || len(f) < 6 || len(g) < 2 {
			return nil, fmt.Errorf("malformed line %q", s.Text())
		}
		maj, min, ok := strings.Cut(f[2], ":")
		ma, errMa := strconv.ParseUint(maj, 10, 32)
		mi, errMi := strconv.ParseUint(min, 10, 32)
		if !ok || errMa != nil || errMi != nil {
			return nil, fmt.Errorf("malformed device %q in line %q", f[2], s.Text())
		}
		ms = append(ms, Mount{Major: uint32(ma), Minor: uint32(mi),
			Root: unescape(f[3]), Point: unescape(f[4]), FSType: g[0], Source: unescape(g[1])})
	}
	return ms, s.Err()
}

// unescape undoes the kernel's octal escapes (\040 for a space) in
// mountinfo's paths.
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

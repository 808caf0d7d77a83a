package hostcheck

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// FUSE mounts in a user namespace came with Linux 4.18.
const minMajor, minMinor = 4, 18

func hostSection() Section {
	b := newSection("host")
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		b.add(Warning, "kernel", fmt.Sprintf("unknown (uname: %v)", err), "")
	} else {
		release := unix.ByteSliceToString(u.Release[:])
		if major, minor, ok := kernelVersion(release); ok && (major < minMajor || major == minMajor && minor < minMinor) {
			b.add(Problem, "kernel", release+" (FUSE in a user namespace needs Linux 4.18 or later)",
				"run nook on a machine with a newer kernel (RHEL/CentOS 8+, Debian 10+, Ubuntu 20.04+)")
		} else {
			b.ok("kernel", release)
		}
		b.info("architecture", runtime.GOARCH+" ("+unix.ByteSliceToString(u.Machine[:])+")")
	}
	b.info("distribution", distro("/etc/os-release"))
	return b.s
}

// kernelVersion parses "6.1.0-18-amd64" into 6 and 1.
func kernelVersion(release string) (major, minor int, ok bool) {
	parts := strings.SplitN(release, ".", 3)
	if len(parts) < 2 {
		return 0, 0, false
	}
	major, err1 := strconv.Atoi(parts[0])
	minor, err2 := strconv.Atoi(strings.TrimRightFunc(parts[1], func(r rune) bool { return r < '0' || r > '9' }))
	return major, minor, err1 == nil && err2 == nil
}

// distro returns os-release's PRETTY_NAME (else NAME VERSION), or says
// why there is none.
func distro(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("unknown (%v)", err)
	}
	vals := parseOSRelease(b)
	if v := vals["PRETTY_NAME"]; v != "" {
		return v
	}
	if v := strings.TrimSpace(vals["NAME"] + " " + vals["VERSION"]); v != "" {
		return v
	}
	return "unknown (no PRETTY_NAME in " + path + ")"
}

// parseOSRelease reads os-release's KEY=value lines, the values in shell
// quoting as os-release(5) allows it.
func parseOSRelease(b []byte) map[string]string {
	vals := map[string]string{}
	s := bufio.NewScanner(bytes.NewReader(b))
	for s.Scan() {
		line := strings.TrimSpace(s.Text())
		key, val, ok := strings.Cut(line, "=")
		if !ok || strings.HasPrefix(line, "#") {
			continue
		}
		if n := len(val); n >= 2 && (val[0] == '"' || val[0] == '\'') && val[n-1] == val[0] {
			quote := val[0]
			val = val[1 : n-1]
			if quote == '"' {
				var u strings.Builder
				for i := 0; i < len(val); i++ {
					if val[i] == '\\' && i+1 < len(val) && strings.IndexByte("\"\\$`", val[i+1]) >= 0 {
						i++
					}
					u.WriteByte(val[i])
				}
				val = u.String()
			}
		}
		vals[key] = val
	}
	return vals
}

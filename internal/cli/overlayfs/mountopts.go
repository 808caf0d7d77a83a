package overlayfs

import (
	"fmt"
	"strconv"
	"strings"
)

// addOptions applies one -o argument: comma-separated options, where a
// backslash escapes the next character (so "\," is a comma inside a value,
// as libfuse reads it), "\NNN" is an octal byte, and a double-quoted stretch
// keeps its commas (SELinux context="...:c1,c2" labels, as the kernel reads
// them). Later options override earlier ones, as with libfuse.
func (o *Options) addOptions(s string) error {
	for _, opt := range splitUnescaped(s, ',') {
		if opt == "" {
			continue
		}
		if err := o.addOption(opt); err != nil {
			return err
		}
	}
	return nil
}

// addOption applies one raw (still escaped) option.
func (o *Options) addOption(raw string) error {
	name, rawValue, hasValue := strings.Cut(raw, "=")
	value := unescape(unquote(rawValue))
	needValue := func() error {
		if !hasValue || value == "" {
			return usagef("option %q needs a value (%s=...)", name, name)
		}
		return nil
	}
	switch name {
	case "lowerdir":
		if err := needValue(); err != nil {
			return err
		}
		lowers, err := splitLowers(unquote(rawValue))
		if err != nil {
			return err
		}
		o.Lowers = lowers
	case "upperdir":
		if err := needValue(); err != nil {
			return err
		}
		o.Upper = value
	case "workdir":
		if err := needValue(); err != nil {
			return err
		}
		o.Work = value
	case "fsname":
		if err := needValue(); err != nil {
			return err
		}
		o.Source = value
	case "debug":
		o.Debug, o.Foreground = true, true
	case "volatile":
		o.Volatile = true
	case "fsync":
		o.Volatile = value == "0"
	case "ro":
		o.Flags.ReadOnly = true
	case "rw":
		o.Flags.ReadOnly = false
	case "nosuid":
		o.Flags.NoSuid = true
	case "suid":
		o.Flags.NoSuid = false
	case "nodev":
		o.Flags.NoDev = true
	case "dev":
		o.Flags.NoDev = false
	case "noexec":
		o.Flags.NoExec = true
	case "exec":
		o.Flags.NoExec = false
	case "redirect_dir":
		// fuse-overlayfs refuses every other value; so does nook.
		if value != "off" {
			return usagef("only redirect_dir=off is supported, not %q", value)
		}
	case "uidmapping", "gidmapping":
		identity, err := identityMapping(value)
		if err != nil {
			return usagef("%s=%s: %v", name, value, err)
		}
		if !identity {
			o.notice(name, "nook serves the ids stored in the layers and the upper dir unmapped")
		}
	case "squash_to_root", "squash_to_uid", "squash_to_gid":
		o.notice(name, "nook serves the ids stored in the layers and the upper dir")
	case "noxattrs":
		if value != "0" {
			o.notice(name, "nook always serves extended attributes")
		}
	case "xattr_permissions":
		if value != "0" {
			o.notice(name, "nook keeps ownership and modes it cannot apply in its own metadata store")
		}
	case "plugins":
		o.notice(name, "nook has no fuse-overlayfs plugins; .tar lowers are its own layer format")
	default:
		if ignoredSilently(name) {
			return nil
		}
		return usagef("unknown option %q", raw)
	}
	return nil
}

func (o *Options) notice(name, why string) {
	o.Notices = append(o.Notices, fmt.Sprintf("ignoring option %s: %s", name, why))
}

// ignoredSilently reports options that fuse-overlayfs, libfuse, mount(8) or
// Podman pass and that change nothing in nook: generic mount flags that
// FUSE or the kernel handle themselves, libfuse tuning, and overlayfs or
// fuse-overlayfs knobs for durability and caching that nook decides itself.
func ignoredSilently(name string) bool {
	switch name {
	// generic mount(8) options
	case "defaults", "auto", "noauto", "user", "nouser", "users", "owner", "group",
		"nofail", "_netdev", "comment", "silent", "loud",
		"atime", "noatime", "relatime", "norelatime", "strictatime", "nostrictatime",
		"lazytime", "nolazytime", "diratime", "nodiratime", "iversion", "noiversion",
		"sync", "async", "dirsync", "mand", "nomand":
		return true
	// libfuse options
	case "allow_other", "allow_root", "default_permissions", "auto_unmount",
		"kernel_cache", "auto_cache", "noauto_cache", "splice_read", "splice_write",
		"splice_move", "no_splice_read", "no_splice_write", "no_splice_move",
		"clone_fd", "max_idle_threads", "max_threads", "max_write", "max_read",
		"max_readahead", "max_background", "congestion_threshold", "subtype",
		"blksize", "async_read", "sync_read", "atomic_o_trunc", "big_writes",
		"writeback_cache", "no_remote_lock", "no_remote_flock", "no_remote_posix_lock",
		"entry_timeout", "attr_timeout", "negative_timeout", "umask", "fd", "rootmode",
		"user_id", "group_id":
		return true
	// fuse-overlayfs and kernel overlayfs knobs
	case "threaded", "writeback", "timeout", "fast_ino", "noacl",
		"static_nlink", "context", "fscontext", "defcontext", "rootcontext",
		"xino", "index", "metacopy", "nfs_export", "uuid", "userxattr", "verity":
		return true
	}
	// x-* options are for userspace tools (systemd, mount(8) helpers).
	return strings.HasPrefix(name, "x-")
}

// splitLowers splits a raw lowerdir value on unescaped colons, as kernel
// overlayfs does ("\:" is a colon inside a path), and unescapes each part.
func splitLowers(raw string) ([]string, error) {
	parts := splitUnescaped(raw, ':')
	lowers := make([]string, 0, len(parts))
	for _, p := range parts {
		if p == "" {
			return nil, usagef("lowerdir %q has an empty element: separate directories with a single ':' (write '\\:' for a colon in a path)", unescape(raw))
		}
		lowers = append(lowers, unescape(p))
	}
	return lowers, nil
}

// splitUnescaped splits s at every sep that is neither escaped by a
// backslash nor inside double quotes. The parts keep their escapes.
func splitUnescaped(s string, sep byte) []string {
	var parts []string
	start, quoted := 0, false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++ // the next byte is literal
		case '"':
			quoted = !quoted
		case sep:
			if !quoted {
				parts = append(parts, s[start:i])
				start = i + 1
			}
		}
	}
	return append(parts, s[start:])
}

// unescape resolves libfuse's escapes: "\NNN" (octal, first digit 0-3) is
// that byte, "\x" is x.
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 == len(s) {
			b.WriteByte(c)
			continue
		}
		if i+3 < len(s) && isOctal(s[i+1:i+4]) {
			n, _ := strconv.ParseUint(s[i+1:i+4], 8, 8)
			b.WriteByte(byte(n))
			i += 3
			continue
		}
		i++
		b.WriteByte(s[i])
	}
	return b.String()
}

func isOctal(s string) bool {
	return s[0] >= '0' && s[0] <= '3' &&
		s[1] >= '0' && s[1] <= '7' &&
		s[2] >= '0' && s[2] <= '7'
}

// unquote strips one pair of double quotes around a whole value.
func unquote(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return s[1 : len(s)-1]
	}
	return s
}

// identityMapping checks a fuse-overlayfs id mapping
// "FROM:TO:LEN[:FROM:TO:LEN...]" and reports whether it maps every id to
// itself, which needs no work.
func identityMapping(s string) (bool, error) {
	fields := strings.Split(s, ":")
	if len(fields)%3 != 0 {
		return false, fmt.Errorf("want FROM:TO:LEN triples")
	}
	identity := true
	for i := 0; i < len(fields); i += 3 {
		var n [3]uint64
		for j := range n {
			v, err := strconv.ParseUint(fields[i+j], 10, 32)
			if err != nil {
				return false, fmt.Errorf("want FROM:TO:LEN triples of numbers: %q", fields[i+j])
			}
			n[j] = v
		}
		if n[0] != n[1] {
			identity = false
		}
	}
	return identity, nil
}

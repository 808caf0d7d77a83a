package hostcheck

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/nookrun/nook/userns"
)

// Capability numbers (linux/capability.h) newgidmap and newuidmap need
// when they are not setuid root.
const (
	capSetGID = 6
	capSetUID = 7
)

func subIDSection(_ context.Context, cfg Config) Section {
	b := newSection("subordinate ids")
	ucfg := userns.Config{UID: cfg.UID, GID: cfg.GID, User: cfg.User}
	getsubids, _ := exec.LookPath("getsubids")
	where := map[string]string{"uid": "/etc/subuid", "gid": "/etc/subgid"}
	if getsubids != "" {
		where = map[string]string{"uid": "getsubids or /etc/subuid", "gid": "getsubids -g or /etc/subgid"}
	}
	rangeFix := fmt.Sprintf("ask an admin for a range no other user has: sudo usermod --add-subuids 100000-165535 --add-subgids 100000-165535 %s", cfg.User)
	uids, uerr := userns.SubUIDs(ucfg)
	gids, gerr := userns.SubGIDs(ucfg)
	nu := rangesCheck(b, "subuid ranges", uids, uerr, where["uid"], cfg.User, rangeFix)
	ng := rangesCheck(b, "subgid ranges", gids, gerr, where["gid"], cfg.User, rangeFix)

	uidmapOK := helperCheck(b, "newuidmap", capSetUID, "cap_setuid")
	gidmapOK := helperCheck(b, "newgidmap", capSetGID, "cap_setgid")
	if getsubids != "" {
		b.info("getsubids", getsubids)
	} else {
		b.info("getsubids", "not installed (needed only where ranges come from LDAP or SSSD)")
	}

	switch {
	case nu > 0 && ng > 0 && uidmapOK && gidmapOK:
		b.ok("mode", fmt.Sprintf("subuid (%d ids)", min(nu, ng)))
	case nu == 0 || ng == 0:
		b.add(Warning, "mode", "single id (chown has no effect)", rangeFix)
	default:
		b.add(Warning, "mode", "single id (chown has no effect)", "make newuidmap and newgidmap usable (see above)")
	}
	return b.s
}

// rangesCheck adds the ranges of one kind and returns how many ids they
// hold.
func rangesCheck(b *section, key string, rs []userns.Range, err error, where, user, fix string) uint64 {
	if err != nil {
		b.add(Warning, key, fmt.Sprintf("cannot be read: %v", err), fix)
		return 0
	}
	if len(rs) == 0 {
		b.add(Warning, key, fmt.Sprintf("none for %s in %s", user, where), fix)
		return 0
	}
	var n uint64
	parts := make([]string, len(rs))
	for i, r := range rs {
		n += uint64(r.Count)
		parts[i] = fmt.Sprintf("%d-%d", r.Start, uint64(r.Start)+uint64(r.Count)-1)
	}
	b.ok(key, fmt.Sprintf("%s (%d ids, from %s)", strings.Join(parts, ", "), n, where))
	return n
}

// helperCheck adds whether newuidmap or newgidmap is installed and able to
// write maps for others' ids: setuid root, or a file capability.
func helperCheck(b *section, name string, capNum int, capName string) bool {
	install := "install it (Debian/Ubuntu: sudo apt install uidmap; Fedora/RHEL: sudo dnf install shadow-utils)"
	path := findHelper(name)
	if path == "" {
		b.add(Warning, name, "not installed (not in PATH, /usr/bin or /usr/sbin)", install)
		return false
	}
	how, err := helperPrivilege(path, capNum, capName)
	if err != nil {
		b.add(Warning, name, fmt.Sprintf("%s cannot map other ids: %v", path, err),
			fmt.Sprintf("sudo chmod u+s %s (or sudo setcap %s+ep %s)", path, capName, path))
		return false
	}
	b.ok(name, path+" ("+how+")")
	return true
}

// findHelper looks where userns looks: PATH, then /usr/bin and /usr/sbin
// (cron and batch jobs often run without sbin in PATH).
func findHelper(name string) string {
	for _, p := range []string{name, "/usr/bin/" + name, "/usr/sbin/" + name} {
		if found, err := exec.LookPath(p); err == nil {
			return found
		}
	}
	return ""
}

// helperPrivilege says how path gets the privilege to write id maps.
func helperPrivilege(path string, capNum int, capName string) (string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	st, _ := fi.Sys().(*syscall.Stat_t)
	if fi.Mode()&os.ModeSetuid != 0 && st != nil && st.Uid == 0 {
		return "setuid root", nil
	}
	buf := make([]byte, 64)
	n, err := unix.Getxattr(path, "security.capability", buf)
	if err != nil {
		return "", fmt.Errorf("neither setuid root nor with file capabilities")
	}
	permitted, effective, err := parseFileCaps(buf[:n])
	if err != nil {
		return "", err
	}
	if permitted&(1<<capNum) == 0 {
		return "", fmt.Errorf("not setuid root, and its file capabilities lack %s", capName)
	}
	if !effective {
		return "", fmt.Errorf("not setuid root, and its %s file capability is not effective (+e)", capName)
	}
	return "file capability " + capName + "+ep", nil
}

// parseFileCaps decodes a security.capability xattr (struct vfs_cap_data,
// little-endian: magic_etc, then permitted/inheritable pairs of 32 bits).
func parseFileCaps(b []byte) (permitted uint64, effective bool, err error) {
	if len(b) < 12 {
		return 0, false, fmt.Errorf("security.capability of %d bytes is too short", len(b))
	}
	magic := binary.LittleEndian.Uint32(b)
	permitted = uint64(binary.LittleEndian.Uint32(b[4:]))
	switch rev := magic & 0xFF000000; rev {
	case 0x01000000:
	case 0x02000000, 0x03000000:
		if len(b) < 20 {
			return 0, false, fmt.Errorf("security.capability revision %d of %d bytes is too short", rev>>24, len(b))
		}
		permitted |= uint64(binary.LittleEndian.Uint32(b[12:])) << 32
	default:
		return 0, false, fmt.Errorf("security.capability has unknown revision %s", strconv.FormatUint(uint64(rev>>24), 10))
	}
	return permitted, magic&1 != 0, nil
}

package userns

import (
	"context"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"strings"
	"time"
)

// LoginName is uid's login name, "" when nothing knows it. nook is built
// without cgo (a static binary starts a millisecond faster, three times
// per container, and runs on any distribution), so os/user reads only
// /etc/passwd; users that come from LDAP or SSSD are found through the
// C library's NSS by `getent passwd`, and $USER (or $LOGNAME) is the last
// resort when it names the same uid.
func LoginName(uid int) string {
	if u, err := user.LookupId(strconv.Itoa(uid)); err == nil {
		return u.Username
	}
	if name := getentName(uid); name != "" {
		return name
	}
	for _, v := range []string{"USER", "LOGNAME"} {
		name := os.Getenv(v)
		if name == "" {
			continue
		}
		if u, err := user.Lookup(name); err == nil && u.Uid != strconv.Itoa(uid) {
			continue
		}
		return name
	}
	return ""
}

// getentTimeout bounds getent: a directory service that does not answer
// must not hang nook; the name is then taken from the environment.
const getentTimeout = 5 * time.Second

// getentName asks NSS through getent(1) for uid's passwd entry.
func getentName(uid int) string {
	ctx, cancel := context.WithTimeout(context.Background(), getentTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, "getent", "passwd", strconv.Itoa(uid)).Output()
	if err != nil {
		return ""
	}
	name, _, ok := strings.Cut(strings.TrimSpace(string(out)), ":")
	if !ok {
		return ""
	}
	return name
}

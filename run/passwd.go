package run

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// identity is who the workload runs as.
type identity struct {
	UID, GID uint32
	Groups   []uint32
	Home     string
}

// resolveUser turns Docker's --user syntax (name|uid[:name|gid]) into ids,
// reading the container's /etc/passwd and /etc/group as Docker does: a
// name must exist there, a number need not; without a group the user's
// primary group from passwd (or 0), plus the supplementary groups that
// list the user.
func resolveUser(spec string) (identity, error) {
	id := identity{Home: "/"}
	userPart, groupPart, hasGroup := strings.Cut(spec, ":")
	if userPart == "" {
		userPart = "0"
	}
	users := readColonFile("/etc/passwd")
	var name string
	found := false
	if n, err := strconv.ParseUint(userPart, 10, 32); err == nil {
		id.UID = uint32(n)
		for _, f := range users {
			if len(f) >= 6 && f[2] == userPart {
				name, found = f[0], true
				id.GID = parseID(f[3])
				id.Home = f[5]
				break
			}
		}
	} else {
		for _, f := range users {
			if len(f) >= 6 && f[0] == userPart {
				name, found = f[0], true
				id.UID, id.GID, id.Home = parseID(f[2]), parseID(f[3]), f[5]
				break
			}
		}
		if !found {
			return id, fmt.Errorf("unable to find user %s: no matching entries in passwd file", userPart)
		}
	}
	if id.UID == 0 && !found {
		id.Home = "/root"
	}
	groups := readColonFile("/etc/group")
	if hasGroup {
		if n, err := strconv.ParseUint(groupPart, 10, 32); err == nil {
			id.GID = uint32(n)
		} else {
			ok := false
			for _, f := range groups {
				if len(f) >= 3 && f[0] == groupPart {
					id.GID, ok = parseID(f[2]), true
					break
				}
			}
			if !ok {
				return id, fmt.Errorf("unable to find group %s: no matching entries in group file", groupPart)
			}
		}
	}
	id.Groups = []uint32{id.GID}
	if name != "" && !hasGroup {
		for _, f := range groups {
			if len(f) < 4 {
				continue
			}
			for _, member := range strings.Split(f[3], ",") {
				if member == name {
					if g := parseID(f[2]); g != id.GID {
						id.Groups = append(id.Groups, g)
					}
				}
			}
		}
	}
	return id, nil
}

func parseID(s string) uint32 {
	n, _ := strconv.ParseUint(s, 10, 32)
	return uint32(n)
}

// readColonFile reads a passwd-style file; a missing file is empty.
func readColonFile(p string) [][]string {
	f, err := os.Open(p)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out [][]string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		out = append(out, strings.Split(line, ":"))
	}
	return out
}

package run

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/nookrun/nook/userns"
)

// account is the host user as keep-id shows them inside the container.
type account struct {
	Name string `json:"name"`
	UID  uint32 `json:"uid"`
	GID  uint32 `json:"gid"`
	// Home is the user's home directory path, the same inside.
	Home string `json:"home"`
}

// accountFileLimit bounds the /etc/passwd and /etc/group read from the
// image: no real one comes near it.
const accountFileLimit = 4 << 20

// addAccount gives keep-id's user a name, a group and a home inside, as
// Podman does: when the image's /etc/passwd (or /etc/group) has no entry
// for the user's uid (gid), a copy with one appended is written to the
// runtime directory and bound over the image's file, so whoami, ls -l and
// shells' ~ work, a --read-only root included, and the image's layer and
// the container's upper stay as they were. The home directory is created
// if the image lacks it (owned by the user, the creator's id in the nested
// namespace), best effort, as the working directory is.
func addAccount(root int, runtimeDir string, a *account) error {
	entries := []struct {
		path, id, line string
	}{
		{"/etc/passwd", strconv.FormatUint(uint64(a.UID), 10),
			fmt.Sprintf("%s:x:%d:%d:%s:%s:/bin/sh\n", a.Name, a.UID, a.GID, a.Name, a.Home)},
		{"/etc/group", strconv.FormatUint(uint64(a.GID), 10),
			fmt.Sprintf("%s:x:%d:\n", a.Name, a.GID)},
	}
	for _, e := range entries {
		old, err := readInRoot(root, e.path)
		if err != nil {
			return fmt.Errorf("keep-id: read the image's %s: %w", e.path, err)
		}
		if hasID(old, e.id) {
			continue
		}
		if len(old) > 0 && old[len(old)-1] != '\n' {
			old = append(old, '\n')
		}
		copyPath := filepath.Join(runtimeDir, filepath.Base(e.path))
		if err := os.WriteFile(copyPath, append(old, e.line...), 0o644); err != nil {
			return fmt.Errorf("keep-id: write %s: %w", copyPath, err)
		}
		if err := bindMount(root, Mount{Type: "bind", Source: copyPath, Target: e.path, File: true}); err != nil {
			return fmt.Errorf("keep-id: %w", err)
		}
	}
	if fd, err := ensureInRoot(root, a.Home, false); err == nil {
		unix.Close(fd)
	}
	return nil
}

// readInRoot reads the file p inside root; a missing file is empty.
func readInRoot(root int, p string) ([]byte, error) {
	fd, err := openInRoot(root, p, unix.O_RDONLY|unix.O_NONBLOCK)
	if errors.Is(err, unix.ENOENT) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(fd), p)
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, accountFileLimit+1))
	if err != nil {
		return nil, err
	}
	if len(b) > accountFileLimit {
		return nil, fmt.Errorf("larger than %d bytes", accountFileLimit)
	}
	return b, nil
}

// hasID reports whether a passwd- or group-style file has an entry whose
// third field is id.
func hasID(file []byte, id string) bool {
	for _, line := range bytes.Split(file, []byte("\n")) {
		f := bytes.SplitN(line, []byte(":"), 4)
		if len(f) >= 3 && string(f[2]) == id {
			return true
		}
	}
	return false
}

// keepIDAccount is keep-id's account for the invoking user: their login
// name (or "user" when nothing knows it) and home path (or /home/NAME).
func keepIDAccount(u HostUser, plan userns.Plan) *account {
	a := &account{Name: u.Name, UID: uint32(plan.ContainerUID), GID: uint32(plan.ContainerGID), Home: u.Home}
	if a.Name == "" || strings.ContainsAny(a.Name, ":\n") {
		a.Name = "user"
	}
	if !filepath.IsAbs(a.Home) || strings.ContainsAny(a.Home, ":\n") {
		a.Home = "/home/" + a.Name
	}
	return a
}

package testregistry

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// listens reports whether process pid holds a socket listening on
// 127.0.0.1:port. A GET answered on the port is not proof enough: when
// another process took the port first, it answers while ours is still
// starting, about to fail with "address already in use".
func listens(pid, port int) (bool, error) {
	inode, err := listenInode(port)
	if err != nil || inode == "" {
		return false, err
	}
	fdDir := filepath.Join("/proc", strconv.Itoa(pid), "fd")
	ents, err := os.ReadDir(fdDir)
	if err != nil {
		return false, fmt.Errorf("list the registry's descriptors: %w", err)
	}
	want := "socket:[" + inode + "]"
	for _, e := range ents {
		if target, err := os.Readlink(filepath.Join(fdDir, e.Name())); err == nil && target == want {
			return true, nil
		}
	}
	return false, nil
}

// listenInode is the inode of the socket listening on 127.0.0.1:port,
// from /proc/net/tcp; "" when there is none.
func listenInode(port int) (string, error) {
	f, err := os.Open("/proc/net/tcp")
	if err != nil {
		return "", fmt.Errorf("read the TCP socket table: %w", err)
	}
	defer f.Close()
	// "sl local_address rem_address st ... inode": 127.0.0.1 is
	// 0100007F (little-endian), the port is hex, st 0A is LISTEN.
	local := fmt.Sprintf("0100007F:%04X", port)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 9 && fields[1] == local && fields[3] == "0A" {
			return fields[9], nil
		}
	}
	if err := sc.Err(); err != nil {
		return "", fmt.Errorf("read the TCP socket table: %w", err)
	}
	return "", nil
}

package overlayfs

import (
	"fmt"
	"net"
	"os"
)

// notifyReady tells a supervisor that the union is mounted, with systemd's
// sd_notify protocol: the datagram "READY=1" to the unix socket named by
// $NOTIFY_SOCKET ('@' for an abstract one). It lets a Type=notify unit, or a
// test, wait for a foreground nook-overlayfs without polling. Without
// NOTIFY_SOCKET it does nothing.
func notifyReady() error {
	name := os.Getenv("NOTIFY_SOCKET")
	if name == "" {
		return nil
	}
	if name[0] == '@' {
		name = "\x00" + name[1:]
	}
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: name, Net: "unixgram"})
	if err != nil {
		return fmt.Errorf("notify %s that the mount is ready: %w", os.Getenv("NOTIFY_SOCKET"), err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("READY=1")); err != nil {
		return fmt.Errorf("notify %s that the mount is ready: %w", os.Getenv("NOTIFY_SOCKET"), err)
	}
	return nil
}

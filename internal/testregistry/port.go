package testregistry

import (
	"fmt"
	"net"
)

// freePort returns a loopback TCP port that was free a moment ago: the
// kernel's pick for port 0, released at once. Another process may take it
// before the registry binds it; Start then tries another.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free loopback port: %w", err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	if err := ln.Close(); err != nil {
		return 0, fmt.Errorf("release loopback port %d: %w", port, err)
	}
	return port, nil
}

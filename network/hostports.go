package network

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// ReserveHostPorts checks every mapping before the container starts, so
// that a bad one is a clear error instead of a half-started container:
// the host port must be free, and unprivileged unless the kernel lets
// anyone bind it. Mappings without a host port get a free one the kernel
// picks. The checks bind and release each port; a program that takes one
// in the moment before the driver binds it makes the driver fail instead.
func ReserveHostPorts(ms []PortMapping) error {
	if len(ms) == 0 {
		return nil
	}
	unprivStart := unprivilegedPortStart()
	seen := make(map[string]bool)
	for i := range ms {
		m := &ms[i]
		if m.HostPort != 0 && int(m.HostPort) < unprivStart {
			return fmt.Errorf("cannot publish host port %d: ports below %d are privileged (net.ipv4.ip_unprivileged_port_start); choose a port of %d or more (e.g. -p %d:%d), or have the administrator lower it (sudo sysctl net.ipv4.ip_unprivileged_port_start=%d)",
				m.HostPort, unprivStart, unprivStart, suggestPort(m.HostPort, unprivStart), m.ContainerPort, m.HostPort)
		}
		port, err := probePort(m.Protocol, m.HostIP, m.HostPort)
		if err != nil {
			return err
		}
		m.HostPort = port
		key := fmt.Sprintf("%s/%d/%s", m.HostIP, m.HostPort, m.Protocol)
		if seen[key] {
			return fmt.Errorf("host port %d/%s is published twice: give each -p its own host port", m.HostPort, m.Protocol)
		}
		seen[key] = true
	}
	return nil
}

// probePort binds proto on ip:port (port 0: any free one) and releases
// it, returning the port.
func probePort(proto, ip string, port uint16) (uint16, error) {
	addr := net.JoinHostPort(ip, strconv.Itoa(int(port)))
	var got net.Addr
	var err error
	if proto == "udp" {
		var c net.PacketConn
		if c, err = net.ListenPacket("udp", addr); err == nil {
			got = c.LocalAddr()
			c.Close()
		}
	} else {
		var l net.Listener
		if l, err = net.Listen("tcp", addr); err == nil {
			got = l.Addr()
			l.Close()
		}
	}
	where := ip
	if where == "" {
		where = "every address"
	}
	switch {
	case errors.Is(err, unix.EADDRINUSE):
		return 0, fmt.Errorf("cannot publish host port %d/%s on %s: it is already in use (by another program or container); choose another host port with -p", port, proto, where)
	case errors.Is(err, unix.EADDRNOTAVAIL):
		return 0, fmt.Errorf("cannot publish on %s: the host has no such address (-p HOST_IP:HOST_PORT:CONTAINER_PORT takes one of the host's addresses)", ip)
	case err != nil:
		return 0, fmt.Errorf("cannot publish host port %d/%s on %s: %w", port, proto, where, err)
	}
	ap, err := netip.ParseAddrPort(got.String())
	if err != nil {
		return 0, fmt.Errorf("publish host port %d/%s: %w", port, proto, err)
	}
	return ap.Port(), nil
}

// unprivilegedPortStart is net.ipv4.ip_unprivileged_port_start (1024 when
// unreadable, the kernel's default).
func unprivilegedPortStart() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_unprivileged_port_start")
	if err != nil {
		return 1024
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 1024
	}
	return n
}

// suggestPort is an unprivileged port like p: 80 → 8080, 443 → 8443.
func suggestPort(p uint16, unprivStart int) int {
	for _, s := range []int{8000 + int(p), 10000 + int(p)} {
		if s >= unprivStart && s <= 65535 {
			return s
		}
	}
	return unprivStart
}

package network

import (
	"fmt"
	"net"
	"net/netip"
	"sort"
	"strconv"
	"strings"
)

// PortMapping is one published port: HostIP:HostPort on the host forwards
// to ContainerPort in the container.
type PortMapping struct {
	// HostIP is the host address to listen on; "" is every address.
	HostIP        string `json:"hostIP,omitempty"`
	HostPort      uint16 `json:"hostPort"`
	ContainerPort uint16 `json:"containerPort"`
	// Protocol is "tcp" or "udp".
	Protocol string `json:"protocol"`
}

// String is Docker's form, "0.0.0.0:8080->80/tcp".
func (p PortMapping) String() string {
	return fmt.Sprintf("%s->%d/%s", p.HostAddr(), p.ContainerPort, p.Protocol)
}

// HostIPOrAny is the host address, "0.0.0.0" for every address.
func (p PortMapping) HostIPOrAny() string {
	if p.HostIP == "" {
		return "0.0.0.0"
	}
	return p.HostIP
}

// HostAddr is the host side, "0.0.0.0:8080" or "[::1]:8080".
func (p PortMapping) HostAddr() string {
	return net.JoinHostPort(p.HostIPOrAny(), strconv.Itoa(int(p.HostPort)))
}

// ParsePublish parses one -p/--publish value, Docker's
// [HOST_IP:][HOST_PORT:]CONTAINER_PORT[/PROTOCOL], where either port may
// be a range (both ranges of one length) and an empty or missing host port
// means one the kernel picks (HostPort 0 until Pick fills it in).
func ParsePublish(spec string) ([]PortMapping, error) {
	bad := func(why string) error {
		return fmt.Errorf("invalid --publish %q: %s (expected [HOST_IP:][HOST_PORT:]CONTAINER_PORT[/tcp|udp], e.g. 8080:80 or 127.0.0.1:5353:53/udp)", spec, why)
	}
	rest, proto, _ := strings.Cut(spec, "/")
	proto = strings.ToLower(proto)
	switch proto {
	case "":
		proto = "tcp"
	case "tcp", "udp":
	default:
		return nil, bad(fmt.Sprintf("protocol %q is not tcp or udp", proto))
	}
	var hostIP, hostPorts, ctrPorts string
	if strings.HasPrefix(rest, "[") {
		// [IPv6]:HOST_PORT:CONTAINER_PORT
		end := strings.Index(rest, "]")
		if end < 0 {
			return nil, bad("unclosed [")
		}
		hostIP, rest = rest[1:end], strings.TrimPrefix(rest[end+1:], ":")
		var ok bool
		if hostPorts, ctrPorts, ok = strings.Cut(rest, ":"); !ok {
			return nil, bad("no container port")
		}
	} else {
		parts := strings.Split(rest, ":")
		switch len(parts) {
		case 1:
			ctrPorts = parts[0]
		case 2:
			hostPorts, ctrPorts = parts[0], parts[1]
		case 3:
			hostIP, hostPorts, ctrPorts = parts[0], parts[1], parts[2]
		default:
			return nil, bad("too many colons")
		}
	}
	if hostIP != "" {
		a, err := netip.ParseAddr(hostIP)
		if err != nil {
			return nil, bad(fmt.Sprintf("host address %q is not an IP address", hostIP))
		}
		hostIP = a.Unmap().String()
	}
	cLo, cHi, err := portRange(ctrPorts)
	if err != nil {
		return nil, bad("container port: " + err.Error())
	}
	hLo, hHi := uint16(0), uint16(0)
	if hostPorts != "" {
		if hLo, hHi, err = portRange(hostPorts); err != nil {
			return nil, bad("host port: " + err.Error())
		}
		if hHi-hLo != cHi-cLo {
			return nil, bad("the host and container port ranges differ in length")
		}
	} else if cHi != cLo {
		return nil, bad("a container port range needs a host port range of the same length")
	}
	var out []PortMapping
	for i := 0; i <= int(cHi-cLo); i++ {
		m := PortMapping{HostIP: hostIP, ContainerPort: cLo + uint16(i), Protocol: proto}
		if hLo != 0 {
			m.HostPort = hLo + uint16(i)
		}
		out = append(out, m)
	}
	return out, nil
}

// portRange parses "80" or "8000-8010".
func portRange(s string) (lo, hi uint16, err error) {
	a, b, isRange := strings.Cut(s, "-")
	if lo, err = parsePort(a); err != nil {
		return 0, 0, err
	}
	hi = lo
	if isRange {
		if hi, err = parsePort(b); err != nil {
			return 0, 0, err
		}
		if hi < lo {
			return 0, 0, fmt.Errorf("range %q ends before it starts", s)
		}
	}
	return lo, hi, nil
}

func parsePort(s string) (uint16, error) {
	n, err := strconv.ParseUint(s, 10, 16)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("%q is not a port number (1-65535)", s)
	}
	return uint16(n), nil
}

// ExposedPorts turns an image's ExposedPorts ("80/tcp", "53/udp",
// "8000-8010/tcp") into mappings to host ports the kernel picks, as -P
// does.
func ExposedPorts(exposed map[string]struct{}) ([]PortMapping, error) {
	keys := make([]string, 0, len(exposed))
	for k := range exposed {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []PortMapping
	for _, k := range keys {
		ports, proto, _ := strings.Cut(k, "/")
		if proto == "" {
			proto = "tcp"
		}
		lo, hi, err := portRange(ports)
		if err != nil || (proto != "tcp" && proto != "udp") {
			return nil, fmt.Errorf("the image's ExposedPorts has %q, which is not PORT[-PORT][/tcp|udp]", k)
		}
		for p := int(lo); p <= int(hi); p++ {
			out = append(out, PortMapping{ContainerPort: uint16(p), Protocol: proto})
		}
	}
	return out, nil
}

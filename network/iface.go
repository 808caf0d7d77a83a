package network

import (
	"fmt"
	"net/netip"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Apply gives the tap its address, MTU and default route and brings it
// up. The container's first process calls it in the container's network
// namespace. It uses the old ioctls, which need nothing but a socket.
func (i *Interface) Apply() error {
	ip, err := netip.ParseAddr(i.IP)
	if err != nil || !ip.Is4() {
		return fmt.Errorf("configure %s: address %q is not IPv4", i.Dev, i.IP)
	}
	gw, err := netip.ParseAddr(i.Gateway)
	if err != nil || !gw.Is4() {
		return fmt.Errorf("configure %s: gateway %q is not IPv4", i.Dev, i.Gateway)
	}
	s, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("configure %s: %w", i.Dev, err)
	}
	defer unix.Close(s)
	ifr, err := unix.NewIfreq(i.Dev)
	if err != nil {
		return fmt.Errorf("configure %s: %w", i.Dev, err)
	}
	steps := []struct {
		what string
		req  uint
		set  func() error
	}{
		{"set MTU", unix.SIOCSIFMTU, func() error { ifr.SetUint32(uint32(i.MTU)); return nil }},
		{"set address", unix.SIOCSIFADDR, func() error { return ifr.SetInet4Addr(ip.AsSlice()) }},
		{"set netmask", unix.SIOCSIFNETMASK, func() error {
			m := [4]byte{}
			for b := 0; b < i.PrefixLen; b++ {
				m[b/8] |= 0x80 >> (b % 8)
			}
			return ifr.SetInet4Addr(m[:])
		}},
	}
	for _, st := range steps {
		if err := st.set(); err != nil {
			return fmt.Errorf("configure %s: %s: %w", i.Dev, st.what, err)
		}
		if err := unix.IoctlIfreq(s, st.req, ifr); err != nil {
			return fmt.Errorf("configure %s: %s: %w", i.Dev, st.what, err)
		}
	}
	if err := unix.IoctlIfreq(s, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("configure %s: read flags: %w", i.Dev, err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(s, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("configure %s: bring up: %w", i.Dev, err)
	}
	if err := addDefaultRoute(s, i.Dev, gw.As4()); err != nil {
		return fmt.Errorf("configure %s: default route via %s: %w", i.Dev, gw, err)
	}
	return nil
}

// rtentry is the kernel's struct rtentry for SIOCADDRT; Go lays it out
// as C does (unsigned long and pointers are uintptr).
type rtentry struct {
	pad1    uintptr
	dst     unix.RawSockaddrInet4
	gateway unix.RawSockaddrInet4
	genmask unix.RawSockaddrInet4
	flags   uint16
	pad2    int16
	pad3    uintptr
	pad4    uintptr
	metric  int16
	dev     *byte
	mtu     uintptr
	window  uintptr
	irtt    uint16
}

func addDefaultRoute(s int, dev string, gw [4]byte) error {
	name, err := unix.BytePtrFromString(dev)
	if err != nil {
		return err
	}
	rt := rtentry{flags: unix.RTF_UP | unix.RTF_GATEWAY, dev: name}
	rt.dst.Family, rt.genmask.Family = unix.AF_INET, unix.AF_INET
	rt.gateway.Family, rt.gateway.Addr = unix.AF_INET, gw
	_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(s), unix.SIOCADDRT, uintptr(unsafe.Pointer(&rt)))
	if errno != 0 {
		return errno
	}
	return nil
}

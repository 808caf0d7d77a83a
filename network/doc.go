// Package network gives a container its network: none (loopback only),
// host (the host's namespace), pasta or slirp4netns (a user-mode stack
// behind a tap device, started through rootlesskit's drivers) or another
// container's namespace; it publishes ports, and writes the container's
// /etc/resolv.conf and /etc/hosts.
//
// Addresses follow rootlesskit's layout in 10.0.2.0/24 for both drivers:
// the container is 10.0.2.100, the gateway 10.0.2.2 (which both drivers map
// to the host's loopback, so it doubles as host-gateway) and the DNS
// forwarder 10.0.2.3.
//
// Published ports take each driver's fastest path: pasta forwards them
// itself (splice between sockets in the kernel, and it keeps the client's
// source address); with slirp4netns rootlesskit's builtin port driver
// listens on the host and, per connection, asks a small helper inside the
// container's network namespace to dial the container port and pass the
// socket back, so that data then flows between two kernel sockets instead
// of through slirp's user-mode TCP. The helper is nook itself, started in
// the container's user and network namespaces by nsenter (a Go process
// cannot setns into a user namespace) and outside its PID namespace, so
// the workload never sees it.
package network

package bench

import (
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
)

// The serving container's ports: iperf3's default and httpd's.
const (
	ctrIperfPort = 5201
	ctrHTTPPort  = 8080
)

// netServeScript is the serving container's command: an iperf3 server in
// the background, then httpd in the foreground once iperf3 listens (its
// socket in LISTEN state, 0A, in /proc/net/tcp: no connection that
// iperf3 would take for a client), so that an answer from httpd means both
// serve. Bounded, like every wait here.
func netServeScript() string {
	return fmt.Sprintf("iperf3 -s -4 -p %d & n=0; "+
		"until grep -q ':%04X 00000000:0000 0A' /proc/net/tcp; do n=$((n+1)); [ $n -lt 100000 ] || exit 1; done; "+
		"exec httpd -f -p %d -h /srv", ctrIperfPort, ctrIperfPort, ctrHTTPPort)
}

// netClientScript is the client container's command: iperf3 to port on
// the host's loopback, which the container reaches at its default
// gateway (10.0.2.2 for nook's drivers and podman's slirp4netns).
func netClientScript(port int) string {
	return fmt.Sprintf(`exec iperf3 -c "$(ip route | awk '/^default/ {print $3; exit}')" -p %d %s`,
		port, strings.Join(iperfArgs(), " "))
}

// publish is a -p option's value: host port hp on 127.0.0.1 to
// container port cp.
func publish(hp, cp int) string { return fmt.Sprintf("127.0.0.1:%d:%d", hp, cp) }

// A netPeer is one way of running the containers of one network driver.
type netPeer struct {
	name   string // nook or podman
	driver string // pasta or slirp4netns
	env    []string
	// serve is the serving container's command, publishing its iperf3
	// and httpd ports on the host ports given; client is the client
	// container's command, reaching the host's iperf3 server on port.
	serve  func(iperfPort, httpPort int) []string
	client func(port int) []string
	// unavailable says why the peer cannot run here (a skip); broken,
	// why its setup failed (a failure).
	unavailable string
	broken      error
	// check, run after the measurements, confirms that no container and
	// no process of the peer's is left.
	check func() error
}

// driverPackage names the Debian package of each driver, for the
// message when one is missing.
func driverPackage(driver string) string {
	if driver == "pasta" {
		return "passt"
	}
	return driver
}

// nookNetPeer: nook from this checkout (its store set up by nookPeer, with
// netImage loaded), `nook run --network DRIVER`.
func nookNetPeer(ne *netEnv, driver string) netPeer {
	base := ne.nook
	p := netPeer{name: "nook", driver: driver, env: base.env, unavailable: base.unavailable, broken: base.broken}
	if p.unavailable != "" || p.broken != nil {
		return p
	}
	if _, err := exec.LookPath(driver); err != nil {
		p.unavailable = fmt.Sprintf("%s is not installed (apt-get install %s): %v", driver, driverPackage(driver), err)
		return p
	}
	bin := ne.re.nookBin
	p.serve = func(iperfPort, httpPort int) []string {
		return []string{bin, "run", "--rm", "--init", "--network", driver,
			"-p", publish(iperfPort, ctrIperfPort), "-p", publish(httpPort, ctrHTTPPort),
			netImage, "sh", "-c", netServeScript()}
	}
	p.client = func(port int) []string {
		return []string{bin, "run", "--rm", "--network", driver, netImage, "sh", "-c", netClientScript(port)}
	}
	p.check = func() error {
		return errors.Join(base.check(), noLeftovers(ne.re.host, ne.re.dir, ne.pausePID()))
	}
	return p
}

// podmanNetPeer: Debian's podman, configured as for BenchmarkRun, `podman
// run --network DRIVER`. Its published ports take podman's default path
// for the driver: rootlessport (rootlesskit's builtin port driver) with
// slirp4netns, pasta's own forwarding with pasta. Its slirp4netns keeps
// the container off the host's loopback unless asked
// (allow_host_loopback=true), which the client container needs.
//
// Podman 4.3.1 (Debian 12) has no pasta network (podman 4.4 added it): a
// probe run says so, and the peer is unavailable. A newer podman's pasta
// gives the container the host's addresses rather than 10.0.2.0/24 and
// may not map its gateway to the host's loopback (--map-gw); that path is
// untested here.
func podmanNetPeer(ne *netEnv, driver string) netPeer {
	base := ne.podman
	p := netPeer{name: "podman", driver: driver, env: base.env, unavailable: base.unavailable, broken: base.broken}
	if p.unavailable != "" || p.broken != nil {
		return p
	}
	if _, err := exec.LookPath(driver); err != nil {
		p.unavailable = fmt.Sprintf("%s is not installed (apt-get install %s): %v", driver, driverPackage(driver), err)
		return p
	}
	if _, err := ne.re.host.run(p.env, "podman", "run", "--rm", "--network", driver, netImage, "true"); err != nil {
		if strings.Contains(err.Error(), "network not found") {
			p.unavailable = fmt.Sprintf("%s cannot run --network %s: %v", version("podman", "--version"), driver, err)
		} else {
			p.broken = fmt.Errorf("probe podman run --network %s: %w", driver, err)
		}
		return p
	}
	clientNet := driver
	if driver == "slirp4netns" {
		clientNet = "slirp4netns:allow_host_loopback=true"
	}
	p.serve = func(iperfPort, httpPort int) []string {
		return []string{"podman", "run", "--rm", "--init", "--network", driver,
			"-p", publish(iperfPort, ctrIperfPort), "-p", publish(httpPort, ctrHTTPPort),
			netImage, "sh", "-c", netServeScript()}
	}
	p.client = func(port int) []string {
		return []string{"podman", "run", "--rm", "--network", clientNet, netImage, "sh", "-c", netClientScript(port)}
	}
	p.check = func() error {
		return errors.Join(base.check(), noLeftovers(ne.re.host, ne.re.dir, ne.pausePID()))
	}
	return p
}

// pausePID is podman's pause process, which holds podman's user
// namespace for the whole benchmark (stopped by the cleanup), so it is
// not a leftover; 0 when there is none.
func (ne *netEnv) pausePID() int {
	return readPausePID(filepath.Join(ne.re.dir, "p", "tmp"))
}

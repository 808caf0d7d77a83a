package bench

import (
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/nookrun/nook/image/imagetest"
)

// netRounds is how many rounds one BenchmarkNetwork op is per peer (make
// bench runs each benchmark once, -benchtime 1x); odd, so the median
// throughput is one round's.
const netRounds = 3

// netDrivers are the network drivers measured, in the report's row order.
func netDrivers() []string { return []string{"pasta", "slirp4netns"} }

// BenchmarkNetwork measures a container's network side by side:
// BenchmarkNetwork/<driver>/<peer>, with drivers pasta and slirp4netns and
// peers nook (`nook run --network DRIVER`, this checkout's) and podman
// (`podman run --network DRIVER`, rootless, configured as for
// BenchmarkRun). Each peer takes its driver's default path for published
// ports: pasta's own forwarding with pasta (nook and podman alike), and
// rootlesskit's builtin port driver with slirp4netns (nook's in its
// monitor, podman's rootlessport). Three metrics:
//
//   - Gbit/s-host-to-ctr: iperf3 on the host, as a client of the iperf3
//     server in the container, through a port published on 127.0.0.1.
//   - Gbit/s-ctr-to-host: iperf3 in a container, as a client of an iperf3
//     server on the host's loopback, which the container reaches at its
//     gateway (10.0.2.2): out through the driver's user-mode network.
//   - ms/conn: a fresh TCP connection through a published port to busybox
//     httpd in the container, a small GET and the whole answer, timed from
//     Go on the host; the median of many, one after another.
//
// Each round starts a serving container (`run --rm --init`, iperf3 -s and
// httpd; see netServeScript) through the host runner, waits until httpd
// answers through the published port (polling, bounded), times the
// connections, runs one iperf3 client, and stops the container with
// SIGTERM to the nook or podman process, as a user's kill would (--init
// passes it on); then a client container (`run --rm`) runs iperf3 against
// the host's server. Throughputs are the median of netRounds rounds, each
// one iperf3 run of iperfSeconds after iperfOmit seconds left out;
// latency the median of every round's connections. All containers run the
// same image, netImage (busybox with the host's iperf3, see
// netimage_test.go), loaded into each peer's private store from one
// docker-archive.
//
// The host runner serves one command at a time and the serving container
// holds it, so the host-side iperf3 client, the host's iperf3 server and
// the timed connections run from the benchmark's own process, which
// shares the host's network namespace (nstest makes only user and mount
// namespaces): the same loopback and the same published ports.
//
// After its rounds, each peer's check confirms that nothing is left: no
// container in its store, no process whose command line or environment
// names the benchmark's directory (nook's monitor, pasta, slirp4netns and
// port helper; podman, conmon, slirp4netns, rootlessport,
// fuse-overlayfs) apart from podman's pause process, and each round
// checks that its published ports are free again.
func BenchmarkNetwork(b *testing.B) {
	ne, err := newNetEnv()
	if ne != nil {
		b.Cleanup(func() {
			if err := ne.re.close(); err != nil {
				b.Errorf("clean up the network benchmark: %v", err)
			}
		})
	}
	if err != nil {
		if errors.Is(err, errNoIperf3) || errors.Is(err, imagetest.ErrNoBusybox) {
			skip(b, err.Error())
		}
		b.Fatalf("set up the network benchmark: %v", err)
	}
	peers := map[string][]netPeer{}
	for _, d := range netDrivers() {
		peers[d] = []netPeer{nookNetPeer(ne, d), podmanNetPeer(ne, d)}
	}
	printNetworkConfig(ne, peers)
	for _, d := range netDrivers() {
		b.Run(d, func(b *testing.B) {
			for _, p := range peers[d] {
				b.Run(p.name, func(b *testing.B) { measureNetwork(b, ne, p) })
			}
		})
	}
}

func measureNetwork(b *testing.B, ne *netEnv, p netPeer) {
	if p.unavailable != "" {
		skip(b, p.unavailable)
	}
	if p.broken != nil {
		b.Fatal(p.broken)
	}
	var in, out, lat []float64
	for range b.N {
		for i := range netRounds {
			r, err := netRound(ne, p)
			if err != nil {
				b.Fatalf("%s with %s, round %d: %v", p.name, p.driver, i+1, err)
			}
			in = append(in, r.in)
			out = append(out, r.out)
			lat = append(lat, r.latency...)
		}
	}
	if err := p.check(); err != nil {
		b.Fatalf("%s with %s: %v", p.name, p.driver, err)
	}
	b.ReportMetric(middle(in), "Gbit/s-host-to-ctr")
	b.ReportMetric(middle(out), "Gbit/s-ctr-to-host")
	b.ReportMetric(middle(lat), "ms/conn")
	reportLoad(b)
}

// netResult is one round's measurements.
type netResult struct {
	in, out float64   // Gbit/s, host to container and container to host
	latency []float64 // ms per connection
}

// netRound runs one round (see BenchmarkNetwork). Whatever fails, the
// serving container is stopped before it returns.
func netRound(ne *netEnv, p netPeer) (r netResult, err error) {
	ports, err := freePorts(2)
	if err != nil {
		return r, err
	}
	iperfPort, httpPort := ports[0], ports[1]
	s := startServing(ne.re.host, p.env, p.serve(iperfPort, httpPort))
	defer func() {
		if serr := s.stop(); serr != nil {
			err = errors.Join(err, serr)
		}
	}()
	addr := "127.0.0.1:" + strconv.Itoa(httpPort)
	if err := s.waitAnswer(addr); err != nil {
		return r, err
	}
	if r.latency, err = connLatencies(addr); err != nil {
		return r, err
	}
	if r.in, err = hostToContainer(iperfPort); err != nil {
		return r, fmt.Errorf("host to container: %w", err)
	}
	if err := s.stop(); err != nil {
		return r, err
	}
	if err := portsFree(iperfPort, httpPort); err != nil {
		return r, err
	}
	if err := ne.server.wait(); err != nil {
		return r, err
	}
	stdout, err := ne.re.host.output(p.env, p.client(ne.server.port)...)
	if err != nil {
		return r, fmt.Errorf("container to host: %w", iperfFailure(stdout, err))
	}
	if r.out, err = iperfGbits(stdout); err != nil {
		return r, fmt.Errorf("container to host: %w", err)
	}
	return r, nil
}

// netEnv is what BenchmarkNetwork's peers share: BenchmarkRun's
// environment (host runner, private directory and stores, this checkout's
// nook), the image's archive and the host's iperf3 server.
type netEnv struct {
	re      *runEnv
	archive string
	libs    int // how many libraries the image holds for iperf3
	server  *hostIperf
	// nook and podman are BenchmarkRun's peers, with netImage loaded
	// into their stores.
	nook, podman runPeer
}

func newNetEnv() (*netEnv, error) {
	re, err := newRunEnv()
	if re == nil {
		return nil, err
	}
	ne := &netEnv{re: re, archive: filepath.Join(re.dir, "netbench.tar")}
	if err != nil {
		return ne, err
	}
	if ne.libs, err = writeNetImage(ne.archive); err != nil {
		return ne, err
	}
	if ne.server, err = startHostIperf(); err != nil {
		return ne, err
	}
	re.cleanups = append(re.cleanups, ne.server.close)
	ne.nook = nookPeer(re)
	if ne.nook.unavailable == "" && ne.nook.broken == nil {
		if _, err := re.host.run(ne.nook.env, re.nookBin, "load", "-q", "-i", ne.archive); err != nil {
			ne.nook.broken = fmt.Errorf("load the iperf3 image into nook's store: %w", err)
		}
	}
	ne.podman = podmanPeer(re)
	if ne.podman.unavailable == "" && ne.podman.broken == nil {
		if _, err := re.host.run(ne.podman.env, "podman", "load", "-q", "-i", ne.archive); err != nil {
			ne.podman.broken = fmt.Errorf("load the iperf3 image into podman's store: %w", err)
		}
	}
	return ne, nil
}

// printNetworkConfig prints the network benchmark's configuration lines;
// the net-* ones describe the Network table.
func printNetworkConfig(ne *netEnv, peers map[string][]netPeer) {
	fmt.Printf("net-image: imagetest busybox plus Debian's %s, the %d libraries ldd lists for it and the loader (one layer), %s\n",
		version(iperf3Path, "--version"), ne.libs, netImage)
	fmt.Printf("net-rounds-per-run: %d per peer, each a fresh serving container and a fresh client container\n", netRounds)
	fmt.Printf("net-throughput: iperf3 %s: one TCP stream, %d s measured after %d s left out, the receiver's rate, median of the rounds; "+
		"host to container: `iperf3 -c 127.0.0.1 -p PORT` on the host through the published port; "+
		"container to host: the client container's iperf3 to `iperf3 -s -B 127.0.0.1` on the host, at the container's gateway\n",
		strings.Join(iperfArgs(), " "), iperfSeconds, iperfOmit)
	fmt.Printf("net-latency: %d connections per round from Go on the host, one after another: connect to the published httpd port, "+
		"send a %d-byte GET, read the answer (%d bytes of body) to EOF; busybox httpd -f forks per connection; median over all rounds\n",
		latencyConns, len(httpRequest), len(netIndexHTML))
	for _, d := range netDrivers() {
		for _, p := range peers[d] {
			if p.serve == nil {
				continue
			}
			fmt.Printf("net-peer-%s-%s: `%s`, then `%s`\n", d, p.name,
				shownArgs(p.serve(0, 0)), shownArgs(p.client(0)))
		}
	}
	fmt.Printf("passt: %s\n", debianVersion("passt"))
	fmt.Printf("slirp4netns: %s\n", version("slirp4netns", "--version"))
	fmt.Printf("podman: %s; %s; %s\n", version("podman", "--version"), version("runc", "--version"), version("conmon", "--version"))
}

// shownArgs is a command for the report: nook for this checkout's binary,
// PORT for the ports picked at random (0 in the commands printed), the
// script quoted for a shell.
func shownArgs(args []string) string {
	shown := slices.Clone(args)
	if strings.HasSuffix(shown[0], "/nook") {
		shown[0] = "nook"
	}
	for i, a := range shown {
		a = strings.ReplaceAll(a, "127.0.0.1:0:", "127.0.0.1:PORT:")
		a = strings.ReplaceAll(a, " -p 0 ", " -p PORT ")
		if i > 0 && shown[i-1] == "-c" {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		shown[i] = a
	}
	return strings.Join(shown, " ")
}

// debianVersion is an installed Debian package's version ("unknown"
// without it): pasta has no version of its own to print.
func debianVersion(pkg string) string {
	out, err := exec.Command("dpkg-query", "-W", "-f=${Version}", pkg).Output()
	if err != nil || len(out) == 0 {
		return "unknown"
	}
	return string(out)
}

package nook

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/nookrun/nook/image"
	"github.com/nookrun/nook/network"
	"github.com/nookrun/nook/run"
	"github.com/nookrun/nook/userns"
)

// networkFlags are nook run's network flags, as Docker spells them.
type networkFlags struct {
	network    string
	publish    []string
	publishAll bool
	dns        []string
	dnsSearch  []string
	dnsOption  []string
	addHost    []string
}

func addNetworkFlags(c *cobra.Command, n *networkFlags) {
	fl := c.Flags()
	fl.StringVar(&n.network, "network", "", "Connect a container to a network: pasta, slirp4netns, none, host or container:NAME (default: pasta when installed, else slirp4netns)")
	fl.StringVar(&n.network, "net", "", "Same as --network")
	fl.MarkHidden("net")
	fl.StringArrayVarP(&n.publish, "publish", "p", nil, "Publish a container's port(s) to the host ([HOST_IP:][HOST_PORT:]CONTAINER_PORT[/PROTOCOL], ranges allowed)")
	fl.BoolVarP(&n.publishAll, "publish-all", "P", false, "Publish all exposed ports to random ports")
	fl.StringArrayVar(&n.dns, "dns", nil, "Set custom DNS servers")
	fl.StringArrayVar(&n.dnsSearch, "dns-search", nil, "Set custom DNS search domains ('.' for none)")
	fl.StringArrayVar(&n.dnsOption, "dns-option", nil, "Set DNS options")
	fl.StringArrayVar(&n.addHost, "add-host", nil, "Add a custom host-to-IP mapping (NAME:IP; IP may be host-gateway)")
	c.RegisterFlagCompletionFunc("network", cobra.FixedCompletions([]string{"pasta", "slirp4netns", "none", "host", "container:"}, cobra.ShellCompDirectiveNoFileComp|cobra.ShellCompDirectiveNoSpace))
}

// containerNetwork is a container's network, decided from the flags and
// the image before anything starts.
type containerNetwork struct {
	setup network.Setup
	dns   network.DNS
	hosts []network.HostEntry
	// note is a line for the user about the choice of driver; minor
	// when it only explains a choice that works (see Binaries.Default).
	note  string
	minor bool
	// joinPID and nsenter are for container:NAME (join).
	joinPID int
	nsenter string
}

// join prepares --network container:NAME: the container must be running;
// the new one enters its user and network namespaces, so it takes its
// user namespace plan too (a different --userns cannot be honoured).
func (cn *containerNetwork) join(cs *run.Containers, name string, mode userns.Mode, modeSet bool) (userns.Plan, error) {
	other, err := cs.Get(name)
	if err != nil {
		return userns.Plan{}, fmt.Errorf("--network container:%s: %w", name, err)
	}
	if other.State != run.StateRunning || other.ChildPID == 0 || other.UserNS == nil || unix.Kill(other.ChildPID, 0) != nil {
		return userns.Plan{}, fmt.Errorf("--network container:%s: the container is not running; start it first", name)
	}
	if modeSet && mode != other.UserNS.Mode {
		return userns.Plan{}, fmt.Errorf("--network container:%s: that container runs with --userns %s, and a container sharing its network shares its user namespace: drop --userns or use %s", name, other.UserNS.Mode, other.UserNS.Mode)
	}
	joined, err := network.ParseMode(other.Network)
	if err != nil {
		return userns.Plan{}, fmt.Errorf("--network container:%s: its record says network %q: %w", name, other.Network, err)
	}
	if joined.Kind == network.Container {
		// It joined another itself: its /etc files are that one's kind
		// of network; loopback-only is the safe reading.
		joined.Kind = network.None
	}
	if joined.Kind == network.Host {
		return userns.Plan{}, fmt.Errorf("--network container:%s: that container uses the host's network; use --network host", name)
	}
	nsenter, err := lookNsenter()
	if err != nil {
		return userns.Plan{}, fmt.Errorf("--network container:%s: %w", name, err)
	}
	cn.setup.Joined = joined.Kind
	cn.joinPID, cn.nsenter = other.ChildPID, nsenter
	return *other.UserNS, nil
}

// parse checks the flags that need no image; networkFor does the rest.
func (n *networkFlags) parse() (network.Mode, error) {
	return network.ParseMode(n.network)
}

// networkFor decides the container's network. Host ports are checked and
// reserved here, before the container exists, so that a port in use or a
// privileged one is a clear error. The caller sets the setup's StateDir.
func (n *networkFlags) networkFor(mode network.Mode, img image.Image) (containerNetwork, error) {
	var cn containerNetwork
	bins := network.Binaries{}
	if mode.Kind == "" {
		mode, cn.note, cn.minor = bins.Default()
	}
	var ports []network.PortMapping
	for _, p := range n.publish {
		ms, err := network.ParsePublish(p)
		if err != nil {
			return cn, err
		}
		ports = append(ports, ms...)
	}
	if n.publishAll {
		ms, err := network.ExposedPorts(img.Config.ExposedPorts)
		if err != nil {
			return cn, err
		}
		ports = append(ports, ms...)
	}
	if len(ports) > 0 && !mode.Private() {
		return cn, fmt.Errorf("--publish needs a network of the container's own: use --network pasta or slirp4netns, not %s", mode)
	}
	for _, s := range n.dns {
		if err := network.ParseDNSServer(s); err != nil {
			return cn, err
		}
	}
	cn.dns = network.DNS{Servers: n.dns, Search: n.dnsSearch, Options: n.dnsOption}
	for _, h := range n.addHost {
		e, err := network.ParseAddHost(h)
		if err != nil {
			return cn, err
		}
		cn.hosts = append(cn.hosts, e)
	}
	return cn, cn.complete(bins, mode, ports)
}

// complete checks and reserves the host ports and finds the driver and
// the helpers: at nook run, and again at every later start.
func (cn *containerNetwork) complete(bins network.Binaries, mode network.Mode, ports []network.PortMapping) error {
	if err := network.ReserveHostPorts(ports); err != nil {
		return err
	}
	cn.setup = network.Setup{Mode: mode, Ports: ports, Joined: cn.setup.Joined}
	// Only helpers started through nsenter need nook's own path: the
	// port helper and the join role; none and host start nothing.
	if mode.Private() || mode.Kind == network.Container {
		exe, err := selfPath()
		if err != nil {
			return err
		}
		cn.setup.Exe = exe
	}
	return bins.Resolve(&cn.setup)
}

// lookNsenter finds nsenter (util-linux), which joining another
// container's namespaces and nook exec need.
func lookNsenter() (string, error) {
	p, err := exec.LookPath("nsenter")
	if err != nil {
		return "", fmt.Errorf("nsenter is not installed (it is in util-linux: sudo apt-get install util-linux)")
	}
	return p, nil
}

// selfPath is the nook binary for helpers started through another
// program (nsenter), which cannot pass nook an argv[0] of its own: the
// path nook was started by, when its name is nook's (so that a test
// binary installed as "nook" is started as nook again), else the
// executable itself.
func selfPath() (string, error) {
	if arg0 := os.Args[0]; filepath.Base(arg0) == "nook" {
		p := arg0
		if !strings.Contains(arg0, "/") {
			if found, err := exec.LookPath(arg0); err == nil {
				p = found
			}
		}
		if abs, err := filepath.Abs(p); err == nil {
			if _, err := os.Stat(abs); err == nil {
				return abs, nil
			}
		}
	}
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("find the nook binary: %w", err)
	}
	return exe, nil
}

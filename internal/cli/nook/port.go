package nook

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/nookrun/nook/run"
)

func newPortCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "port CONTAINER [PRIVATE_PORT[/PROTO]]",
		Short: "List port mappings or a specific mapping for the container",
		Long: `List the published ports of a running container, as
"80/tcp -> 0.0.0.0:8080"; with PRIVATE_PORT, only the host addresses that
container port is published on.`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, c, err := openContainer(cmd, args[0])
			if err != nil {
				return err
			}
			if c.State != run.StateRunning {
				return nil // as Docker: a stopped container publishes nothing
			}
			out := cmd.OutOrStdout()
			if len(args) == 1 {
				for _, p := range c.Ports {
					fmt.Fprintf(out, "%d/%s -> %s\n", p.ContainerPort, p.Protocol, p.HostAddr())
				}
				return nil
			}
			num, proto, _ := strings.Cut(args[1], "/")
			if proto == "" {
				proto = "tcp"
			}
			n, err := strconv.ParseUint(num, 10, 16)
			if err != nil {
				return fmt.Errorf("invalid port %q: expected PORT[/tcp|udp]", args[1])
			}
			found := false
			for _, p := range c.Ports {
				if uint64(p.ContainerPort) == n && p.Protocol == proto {
					fmt.Fprintln(out, p.HostAddr())
					found = true
				}
			}
			if !found {
				return fmt.Errorf("no public port '%d/%s' published for %s", n, proto, args[0])
			}
			return nil
		},
	}
}

// portsText is nook ps's PORTS column: a running container's mappings.
func portsText(c *run.Container) string {
	if c.State != run.StateRunning {
		return ""
	}
	s := make([]string, len(c.Ports))
	for i, p := range c.Ports {
		s[i] = p.String()
	}
	return strings.Join(s, ", ")
}

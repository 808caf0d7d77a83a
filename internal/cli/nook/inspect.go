package nook

import (
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/nookrun/nook/network"
	"github.com/nookrun/nook/run"
)

func newInspectCmd() *cobra.Command {
	var format string
	c := &cobra.Command{
		Use:   "inspect [OPTIONS] NAME|ID [NAME|ID...]",
		Short: "Show containers (or images) in detail",
		Long: `Inspect prints containers as a JSON array with docker inspect's fields
(State, Config, HostConfig, NetworkSettings...), or each through the Go
template --format gives. A name that is not a container's is looked up as
an image.`,
		Example: `  nook inspect web
  nook inspect --format '{{json .NetworkSettings.Ports}}' web`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cs, _, err := openContainers(cmd)
			if err != nil {
				return err
			}
			var out []any
			for _, ref := range args {
				c, err := cs.Get(ref)
				if errors.Is(err, run.ErrNoContainer) {
					s, serr := openStore(cmd)
					if serr != nil {
						return serr
					}
					in, ierr := s.Inspect(ref)
					if ierr != nil {
						return fmt.Errorf("no such container or image: %s", ref)
					}
					out = append(out, in)
					continue
				}
				if err != nil {
					return err
				}
				out = append(out, inspectContainer(c))
			}
			return printInspected(cmd, format, out)
		},
	}
	c.Flags().StringVarP(&format, "format", "f", "", "Print each container through this Go template")
	return c
}

// containerInspection is docker inspect's view of a container, the
// fields nook has.
type containerInspection struct {
	ID              string
	Created         time.Time
	Path            string
	Args            []string
	State           inspectState
	Image           string
	Name            string
	RestartCount    int
	LogPath         string
	Config          inspectConfig
	HostConfig      inspectHostConfig
	NetworkSettings inspectNetwork
}

type inspectState struct {
	Status     string
	Running    bool
	Restarting bool
	OOMKilled  bool
	Dead       bool
	// Pid is the workload's first process, MonitorPid nook's monitor
	// of the container (Podman's ConmonPid).
	Pid        int
	MonitorPid int
	ExitCode   int
	Error      string
	StartedAt  time.Time
	FinishedAt time.Time
}

type inspectConfig struct {
	Hostname    string
	User        string
	Tty         bool
	OpenStdin   bool
	Env         []string
	Cmd         []string
	Image       string
	WorkingDir  string
	StopSignal  string `json:",omitempty"`
	StopTimeout int
}

type inspectRestartPolicy struct {
	Name              string
	MaximumRetryCount int
}

type inspectHostConfig struct {
	RestartPolicy inspectRestartPolicy
	NetworkMode   string
	PortBindings  map[string][]portBinding
	AutoRemove    bool
}

type inspectNetwork struct {
	IPAddress string
	Gateway   string
	Ports     map[string][]portBinding
}

type portBinding struct {
	HostIp   string
	HostPort string
}

func inspectContainer(c *run.Container) containerInspection {
	in := containerInspection{
		ID:      c.ID,
		Created: c.Created,
		Image:   c.ImageID,
		Name:    "/" + c.Name,
		State: inspectState{
			Status:     c.State,
			Running:    c.State == run.StateRunning,
			Restarting: c.State == run.StateRestarting,
			OOMKilled:  c.OOMKilled,
			Dead:       c.Lost,
			ExitCode:   c.ExitCode,
			Error:      c.Error,
			StartedAt:  c.Started,
			FinishedAt: c.Finished,
		},
		RestartCount: c.RestartCount,
		Config:       inspectConfig{Hostname: c.ShortID(), Image: c.Image, Cmd: c.Command},
		HostConfig:   inspectHostConfig{NetworkMode: c.Network, PortBindings: bindings(c.Ports), AutoRemove: c.AutoRemove},
	}
	if len(c.Command) > 0 {
		in.Path, in.Args = c.Command[0], c.Command[1:]
	}
	if c.Detached {
		in.LogPath = filepath.Join(c.Dir(), "ctr.log")
	}
	if c.Lost {
		in.State.Error = "its monitor was killed (or the machine restarted): the exit status is unknown"
	}
	if set, err := c.Settings(); err == nil {
		in.Config.Hostname = set.Hostname
		in.Config.User = set.Process.User
		in.Config.Tty = set.Process.Tty
		in.Config.OpenStdin = set.Interactive
		in.Config.Env = set.Process.Env
		in.Config.WorkingDir = set.Process.Cwd
		in.Config.StopTimeout = set.StopTimeout
		if set.StopSignal != 0 {
			in.Config.StopSignal = unix.SignalName(syscall.Signal(set.StopSignal))
		}
		in.HostConfig.RestartPolicy = inspectRestartPolicy{Name: set.Restart.String(), MaximumRetryCount: set.Restart.MaxRetries}
		if set.Restart.Name == "on-failure" {
			in.HostConfig.RestartPolicy.Name = "on-failure"
		}
	}
	if in.State.Running || in.State.Restarting {
		in.State.MonitorPid = c.MonitorPID
	}
	if in.State.Running {
		in.State.Pid = c.ChildPID
		in.NetworkSettings.Ports = bindings(c.Ports)
		if m, err := network.ParseMode(c.Network); err == nil && m.Private() {
			in.NetworkSettings.IPAddress, in.NetworkSettings.Gateway = network.ContainerIP, network.GatewayIP
		}
	}
	return in
}

// bindings groups mappings by container port, as Docker's Ports maps do.
func bindings(ports []network.PortMapping) map[string][]portBinding {
	if len(ports) == 0 {
		return nil
	}
	out := make(map[string][]portBinding)
	for _, p := range ports {
		key := strconv.Itoa(int(p.ContainerPort)) + "/" + p.Protocol
		out[key] = append(out[key], portBinding{HostIp: p.HostIPOrAny(), HostPort: strconv.Itoa(int(p.HostPort))})
	}
	return out
}

package nook

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/nookrun/nook/internal/runtimedir"
	"github.com/nookrun/nook/network"
	"github.com/nookrun/nook/run"
)

// prepared is what nook run decided before the container existed: its
// network and cgroup, used for its first start.
type prepared struct {
	cn      containerNetwork
	cgroups *cgroupSetup
}

// superviseForeground runs a created container in this process, with
// the user's terminal, until it ends for good.
func superviseForeground(cmd *cobra.Command, cs *run.Containers, ctr *run.Container, set *run.Settings, first *prepared, fuseDebug bool, layersOpened func()) (run.Exit, error) {
	state, err := runtimedir.Sub(os.Getuid(), ctr.ID)
	if err != nil {
		cs.Remove(ctr, true)
		return run.Exit{Code: ExitError}, fmt.Errorf("make the container's runtime directory: %w", err)
	}
	// Removed by the supervisor (BeforeUnlock) before it lets go of the
	// lock, never after: by then a new monitor may have made it again.
	nsenter, exe := execTools()
	sup := &run.Supervisor{
		Containers: cs,
		Container:  ctr,
		Settings:   set,
		StateDir:   state,
		Stdout:     os.Stdout,
		Stderr:     os.Stderr,
		Nsenter:    nsenter,
		Exe:        exe,
		BeforeUnlock: func() {
			os.RemoveAll(state)
			runtimedir.Cleanup(filepath.Dir(state))
		},
	}
	if set.Interactive {
		sup.Stdin = os.Stdin
	}
	sup.Prepare = func() (run.Config, error) {
		p := first
		first = nil
		if p == nil {
			var err error
			if p, err = prepareAgain(cmd, cs, ctr, set); err != nil {
				return run.Config{}, err
			}
		}
		cfg, err := configFor(cmd, ctr, set, p, state)
		if err != nil {
			return cfg, err
		}
		cfg.FUSEDebug = fuseDebug
		cfg.LayersOpened = layersOpened
		if set.Process.Tty {
			cfg.Process.Rows, cfg.Process.Cols = run.TerminalSize(os.Stdin, os.Stdout)
		}
		return cfg, nil
	}
	return sup.Run(cmd.Context(), false)
}

// prepareAgain decides a container's network and cgroup for a start
// after its first: from its settings and record, as nook run decided
// them then (ports and their conflicts are checked again).
func prepareAgain(cmd *cobra.Command, cs *run.Containers, ctr *run.Container, set *run.Settings) (*prepared, error) {
	mode, err := network.ParseMode(ctr.Network)
	if err != nil {
		return nil, fmt.Errorf("container %s's network %q: %w", ctr.Name, ctr.Network, err)
	}
	cn := containerNetwork{dns: set.DNS, hosts: set.ExtraHosts}
	if mode.Kind == network.Container {
		if _, err := cn.join(cs, mode.Container, ctr.UserNS.Mode, false); err != nil {
			return nil, err
		}
	}
	if err := cn.complete(network.Binaries{}, mode, ctr.Ports); err != nil {
		return nil, err
	}
	cg, err := cgroupsFor(cmd, set.Resources)
	if err != nil {
		return nil, err
	}
	return &prepared{cn: cn, cgroups: cg}, nil
}

// configFor is one start's run.Config.
func configFor(cmd *cobra.Command, ctr *run.Container, set *run.Settings, p *prepared, state string) (run.Config, error) {
	p.cn.setup.StateDir = state
	proc := set.Process
	proc.Rlimits = append([]run.Rlimit(nil), proc.Rlimits...)
	cfg := run.Config{
		StopSignal:  syscall.Signal(set.StopSignal),
		Layers:      set.Layers,
		Upper:       ctr.Upper,
		Work:        ctr.Work,
		Volatile:    ctr.AutoRemove,
		Hostname:    set.Hostname,
		Process:     proc,
		Mounts:      set.Mounts,
		ReadOnly:    set.ReadOnly,
		Network:     p.cn.setup,
		JoinPID:     p.cn.joinPID,
		NsenterPath: p.cn.nsenter,
		DNS:         p.cn.dns,
		ExtraHosts:  p.cn.hosts,
		UserNS:      *ctr.UserNS,
		HostUser:    set.HostUser,
	}
	// The cgroup's path is in the record before the cgroup exists, so
	// that a sweep finds it if nook is killed in between.
	if err := p.cgroups.apply(cmd, ctr, &cfg); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// execTools are what nook exec needs of the host: nsenter and nook's own
// binary ("" when missing: exec then says so).
func execTools() (nsenter, exe string) {
	nsenter, _ = lookNsenter()
	exe, _ = os.Executable()
	return nsenter, exe
}

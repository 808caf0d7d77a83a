package cgroupdeleg

import (
	"context"
	"fmt"
)

// Resolve is Find, and when nothing is delegated to nook's cgroup but the
// user's systemd manager runs, StartScope and Find again in the scope.
// When systemd cannot be reached over D-Bus, Rerun is the systemd-run
// command line to start nook again under (SystemdRunArgv); the caller
// decides whether to. exe and args are nook's own, for that command line.
func Resolve(ctx context.Context, opts Options, exe string, args []string) (d *Delegation, rerun []string, err error) {
	d, err = Find(opts)
	if err != nil || d.Usable() || opts.Parent != "" || opts.InScope || !d.UserManager || d.Hybrid {
		return d, nil, err
	}
	_, scopeErr := StartScope(ctx)
	if scopeErr == nil {
		opts.InScope = true
		d, err = Find(opts)
		return d, nil, err
	}
	if argv, err := SystemdRunArgv(exe, args); err == nil {
		return d, argv, nil
	}
	d.Reason = fmt.Sprintf("%s (systemd could not make a delegated scope: %v)", d.Reason, scopeErr)
	return d, nil, nil
}

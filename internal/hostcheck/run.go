package hostcheck

import (
	"context"
	"os"
	"strconv"

	"github.com/nookrun/nook/userns"
)

// Config is who nook runs as and where its store is.
type Config struct {
	// UID and GID are the invoking user's, normally os.Getuid() and
	// os.Getgid(); User is the login name (subordinate id files and the
	// linger file name the user).
	UID, GID int
	User     string
	// StoreRoot is the image store's directory (it may not exist yet);
	// StoreRootErr says why there is none (no HOME, for one), and is
	// reported as a problem.
	StoreRoot    string
	StoreRootErr error
}

// CurrentUser returns a Config for the process's own user, with StoreRoot
// left for the caller. The login name is the uid number when nothing
// knows the uid (userns.LoginName says where it looks).
func CurrentUser() Config {
	cfg := Config{UID: os.Getuid(), GID: os.Getgid()}
	if cfg.User = userns.LoginName(cfg.UID); cfg.User == "" {
		cfg.User = strconv.Itoa(cfg.UID)
	}
	return cfg
}

// Run runs every probe and returns the report. Probes that cannot run
// say so in their checks; Run itself does not fail.
func Run(ctx context.Context, cfg Config) Report {
	r := Report{Sections: []Section{
		hostSection(),
		usernsSection(ctx),
		subIDSection(ctx, cfg),
		fuseSection(),
		cgroupSection(),
		networkSection(ctx),
		storeSection(cfg),
		sessionSection(cfg),
	}}
	r.finish()
	return r
}

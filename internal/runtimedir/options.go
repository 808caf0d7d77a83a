package runtimedir

import "os"

// Option changes where Resolve, Dir and Sub look. Tests use them to point
// every candidate at directories of their own; nook itself passes none.
type Option func(*config)

type config struct {
	xdg     string // value of XDG_RUNTIME_DIR, "" when unset
	runUser string // parent of the per-user /run/user/UID dirs, "" = none
	tmp     string // parent of the fallback
}

func newConfig(opts []Option) config {
	c := config{
		xdg:     os.Getenv("XDG_RUNTIME_DIR"),
		runUser: "/run/user",
		tmp:     "/tmp",
	}
	for _, o := range opts {
		o(&c)
	}
	return c
}

// WithXDGRuntimeDir uses dir as the value of $XDG_RUNTIME_DIR ("" as if it
// were unset).
func WithXDGRuntimeDir(dir string) Option {
	return func(c *config) { c.xdg = dir }
}

// WithRunUserDir looks for the user's session directory as dir/UID instead
// of /run/user/UID ("" skips that candidate).
func WithRunUserDir(dir string) Option {
	return func(c *config) { c.runUser = dir }
}

// WithTmpDir makes the fallback dir/nook-UID instead of /tmp/nook-UID. It
// is deliberately not $TMPDIR: batch schedulers set a TMPDIR per job, and
// every nook command of a user must find the same runtime directory.
func WithTmpDir(dir string) Option {
	return func(c *config) { c.tmp = dir }
}

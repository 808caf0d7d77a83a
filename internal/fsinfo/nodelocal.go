package fsinfo

import (
	"fmt"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/nookrun/nook/internal/runtimedir"
)

// Option changes where NodeLocal looks. Tests use them; nook passes none.
type Option func(*config)

type config struct {
	varTmp  string
	runtime []runtimedir.Option
}

// WithVarTmp looks in dir instead of /var/tmp.
func WithVarTmp(dir string) Option {
	return func(c *config) { c.varTmp = dir }
}

// WithRuntimeDir passes opts to runtimedir when the runtime directory is
// the answer.
func WithRuntimeDir(opts ...runtimedir.Option) Option {
	return func(c *config) { c.runtime = opts }
}

// NodeLocalInfo is where NodeLocal put upper directories and why.
type NodeLocalInfo struct {
	// Path is the directory, made if it was missing.
	Path string `json:"path"`
	// Skipped says why /var/tmp was not used ("" when it was).
	Skipped string `json:"skipped,omitempty"`
}

// NodeLocalDir returns the directory where container upper directories go
// when the store is on a network filesystem: /var/tmp/nook-UID (made
// private to uid, refused when someone else made it first, as
// runtimedir.Private does) when /var/tmp is a local filesystem uid can
// write, else uid's runtime directory.
func NodeLocalDir(uid int, opts ...Option) (string, error) {
	info, err := NodeLocal(uid, opts...)
	return info.Path, err
}

// NodeLocal is NodeLocalDir that also says why /var/tmp was not used.
func NodeLocal(uid int, opts ...Option) (NodeLocalInfo, error) {
	c := config{varTmp: "/var/tmp"}
	for _, o := range opts {
		o(&c)
	}
	var info NodeLocalInfo
	if info.Skipped = varTmpProblem(c.varTmp); info.Skipped == "" {
		p, err := runtimedir.Private(c.varTmp, "nook-"+strconv.Itoa(uid), uid)
		if err != nil {
			return info, fmt.Errorf("make node-local directory for container uppers: %w", err)
		}
		info.Path = p
		return info, nil
	}
	p, err := runtimedir.Dir(uid, c.runtime...)
	if err != nil {
		return info, fmt.Errorf("node-local directory for container uppers (%s): %w", info.Skipped, err)
	}
	info.Path = p
	return info, nil
}

// varTmpProblem says why dir cannot hold upper directories, or "".
func varTmpProblem(dir string) string {
	fs, err := Type(dir)
	if err != nil {
		return fmt.Sprintf("%s cannot be used (%v)", dir, err)
	}
	if fs.Network {
		return fmt.Sprintf("%s is on %s, a network filesystem", dir, fs.Name)
	}
	if err := unix.Access(dir, unix.W_OK|unix.X_OK); err != nil {
		return fmt.Sprintf("%s is not writable (%v)", dir, err)
	}
	return ""
}

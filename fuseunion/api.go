// Package fuseunion serves a copy-on-write union of read-only lower layers and
// one writable upper directory over FUSE, with kernel overlayfs as the
// reference for its semantics. It knows nothing of images or containers.
package fuseunion

// Config describes one union mount.
type Config struct {
	// Lowers are the read-only layers, topmost first.
	Lowers []Lower
	// Upper is the writable directory; empty for a read-only union.
	Upper string
	// Work is a directory on the same filesystem as Upper for temporary
	// files (copy-up) and the ownership journal. Required with Upper.
	Work string
	// FsName is shown as the source in /proc/mounts.
	FsName string
	// Debug logs every FUSE request.
	Debug bool
}

// Server is a live union mount.
type Server struct {
	unmount func() error
	wait    func()
}

// Mount mounts the union described by cfg on mountpoint and serves it in the
// background. mountpoint may be a directory or "/dev/fd/N", an already
// mounted /dev/fuse descriptor.
func Mount(mountpoint string, cfg Config) (*Server, error) {
	return nil, errNotYet
}

// Wait blocks until the union is unmounted.
func (s *Server) Wait() { s.wait() }

// Unmount detaches the union and stops serving it.
func (s *Server) Unmount() error { return s.unmount() }

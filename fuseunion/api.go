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

package fuseunion

// Lower is one read-only layer of the union. Two kinds exist: an indexed
// layer tar (TarLower) and a plain host directory (DirLower).
type Lower interface {
	// Close releases the layer's files.
	Close() error
}

// OpenDirLower opens a host directory as a lower layer. Every whiteout form
// the peers write is understood: OCI ".wh.NAME" and ".wh..wh..opq", overlayfs
// 0:0 character devices and the trusted./user.overlay.opaque xattrs.
func OpenDirLower(path string) (Lower, error) { return nil, errNotYet }

// OpenTarLower opens an indexed layer tar (X.tar with X.idx beside it, as the
// layer package writes them) as a lower layer.
func OpenTarLower(tarPath string) (Lower, error) { return nil, errNotYet }

package fuseunion

// Lower is one read-only layer of the union. Two kinds exist: an indexed
// layer tar (TarLower) and a plain host directory (DirLower).
type Lower interface {
	// Close releases the layer's files.
	Close() error
}

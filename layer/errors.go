package layer

import "errors"

var (
	// ErrCorrupt means a .tar/.idx pair is truncated, corrupt or does not
	// belong together. Open wraps it with what was found wrong.
	ErrCorrupt = errors.New("corrupt layer index")

	// ErrDigestMismatch means the uncompressed stream did not hash to the
	// DiffID the caller expected (WithDiffID). Nothing is left behind.
	ErrDigestMismatch = errors.New("layer digest mismatch")

	// ErrLimit means the layer exceeds a bound the index keeps so that a
	// hostile tar cannot make it grow without limit (entries, sparse
	// fragments, index size).
	ErrLimit = errors.New("layer exceeds index limits")
)

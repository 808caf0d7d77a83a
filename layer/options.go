package layer

import (
	"encoding/hex"
	"fmt"
	"strings"
)

// Option adjusts Create.
type Option func(*options) error

type options struct {
	// want is the expected DiffID as raw sha256; nil when not checked.
	want []byte
	// maxEntries bounds the live entries of the index (maxEntries unless a
	// test lowers it to reach the limit cheaply).
	maxEntries int
	// noSync skips the fsyncs that make a layer survive a crash; fuzzing
	// creates thousands of layers a second that nobody keeps.
	noSync bool
}

func defaultOptions() options { return options{maxEntries: maxEntries} }

// withoutSync makes Create skip fsync; for fuzzing.
func withoutSync() Option {
	return func(o *options) error {
		o.noSync = true
		return nil
	}
}

// withMaxEntries lowers the entry limit; for tests.
func withMaxEntries(n int) Option {
	return func(o *options) error {
		if n < 1 || n > maxEntries {
			return fmt.Errorf("entry limit %d outside 1..%d", n, maxEntries)
		}
		o.maxEntries = n
		return nil
	}
}

// WithDiffID makes Create check that the uncompressed stream hashes to d
// ("sha256:<hex>"); on a mismatch Create fails with ErrDigestMismatch and
// leaves nothing behind.
func WithDiffID(d string) Option {
	return func(o *options) error {
		raw, err := parseDiffID(d)
		if err != nil {
			return err
		}
		o.want = raw
		return nil
	}
}

// parseDiffID returns the 32 raw bytes of a "sha256:<64 lowercase hex>" digest.
func parseDiffID(d string) ([]byte, error) {
	h, ok := strings.CutPrefix(d, "sha256:")
	if !ok || len(h) != 64 || strings.ToLower(h) != h {
		return nil, fmt.Errorf("parse diffid %q: want sha256:<64 lowercase hex digits>", d)
	}
	raw, err := hex.DecodeString(h)
	if err != nil {
		return nil, fmt.Errorf("parse diffid %q: %w", d, err)
	}
	return raw, nil
}

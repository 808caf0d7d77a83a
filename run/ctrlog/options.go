package ctrlog

import (
	"fmt"
	"strconv"
	"strings"
)

// Defaults of Options, as Podman's and close to Docker's local driver.
const (
	DefaultMaxSize  = 10 << 20
	DefaultMaxFiles = 2
)

// Options caps a container's log. The zero value means the defaults. It
// is plain data so that it can be kept in the container's record.
type Options struct {
	// MaxSize is the size in bytes past which ctr.log is rotated
	// (DefaultMaxSize when 0).
	MaxSize int64 `json:"maxSize,omitempty"`
	// MaxFiles is how many files are kept, ctr.log included: 2 keeps
	// ctr.log and ctr.log.1 (DefaultMaxFiles when 0).
	MaxFiles int `json:"maxFiles,omitempty"`
}

// withDefaults fills in zero fields and checks the rest.
func (o Options) withDefaults() (Options, error) {
	if o.MaxSize == 0 {
		o.MaxSize = DefaultMaxSize
	}
	if o.MaxFiles == 0 {
		o.MaxFiles = DefaultMaxFiles
	}
	if o.MaxSize < 0 {
		return o, fmt.Errorf("%w: max-size %d: want a positive size such as 10m", ErrLogOpt, o.MaxSize)
	}
	if o.MaxFiles < 0 {
		return o, fmt.Errorf("%w: max-file %d: want a count of at least 1", ErrLogOpt, o.MaxFiles)
	}
	return o, nil
}

// ParseLogOpts reads Docker's `--log-opt KEY=VALUE` values: max-size (bytes,
// or with a k, m or g suffix, powers of 1024, as Docker reads them) and
// max-file (a count of at least 1). Keys not given keep their defaults.
func ParseLogOpts(opts []string) (Options, error) {
	var o Options
	for _, opt := range opts {
		key, val, ok := strings.Cut(opt, "=")
		key = strings.TrimSpace(key)
		if !ok {
			return o, fmt.Errorf("%w: --log-opt %q: want KEY=VALUE, such as max-size=10m or max-file=3", ErrLogOpt, opt)
		}
		switch key {
		case "max-size":
			n, err := parseSize(val)
			if err != nil {
				return o, fmt.Errorf("%w: --log-opt max-size=%s: want a positive size such as 10m (k, m or g suffix)", ErrLogOpt, val)
			}
			o.MaxSize = n
		case "max-file":
			n, err := strconv.Atoi(strings.TrimSpace(val))
			if err != nil || n < 1 {
				return o, fmt.Errorf("%w: --log-opt max-file=%s: want a count of at least 1, such as max-file=3", ErrLogOpt, val)
			}
			o.MaxFiles = n
		default:
			return o, fmt.Errorf("%w: --log-opt %s: unknown option; nook's log takes max-size=SIZE and max-file=COUNT", ErrLogOpt, key)
		}
	}
	return o, nil
}

// parseSize reads "1048576", "512k", "10m", "1g" (also "10mb", "10MiB"),
// as Docker's RAMInBytes does: powers of 1024, positive, whole numbers or a
// decimal fraction ("1.5m").
func parseSize(s string) (int64, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	s = strings.TrimSuffix(s, "b")
	s = strings.TrimSuffix(s, "i")
	mult := int64(1)
	if s != "" {
		switch s[len(s)-1] {
		case 'k':
			mult = 1 << 10
		case 'm':
			mult = 1 << 20
		case 'g':
			mult = 1 << 30
		}
		if mult != 1 {
			s = s[:len(s)-1]
		}
	}
	if s == "" || strings.Trim(s, "0123456789.") != "" {
		return 0, fmt.Errorf("size %q", s)
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f <= 0 || f*float64(mult) >= 1<<62 {
		return 0, fmt.Errorf("size %q", s)
	}
	n := int64(f * float64(mult))
	if n < 1 {
		return 0, fmt.Errorf("size %q", s)
	}
	return n, nil
}

package ctrlog

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ParseSince reads a --since or --until value as Docker does:
//
//	2026-11-28T21:00:00Z, 2026-11-28T21:00:00.5+01:00   RFC 3339, with or without fraction
//	2026-11-28T21:00:00, 2026-11-28T21:00, 2026-11-28   in now's time zone
//	1764363600, 1764363600.123456789                    Unix seconds
//	10m, 1h30m, 90s                                     that long before now
//
// "0" is the Unix epoch, not now (as Docker).
func ParseSince(s string, now time.Time) (time.Time, error) {
	v := strings.TrimSpace(s)
	if v == "" {
		return time.Time{}, badTime(s)
	}
	if d, err := time.ParseDuration(v); err == nil && v != "0" {
		return now.Add(-d), nil
	}
	if t, ok := parseUnix(v); ok {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	for _, layout := range []string{
		"2006-01-02T15:04:05.999999999",
		"2006-01-02T15:04",
		"2006-01-02",
	} {
		if t, err := time.ParseInLocation(layout, v, now.Location()); err == nil {
			return t, nil
		}
	}
	return time.Time{}, badTime(s)
}

func badTime(s string) error {
	return fmt.Errorf("%w %q: use a time such as 2026-11-28T21:00:00Z, a date (2026-11-28), Unix seconds (1764363600) or a duration before now (10m, 1h30m)", ErrTime, s)
}

// parseUnix reads SECONDS[.FRACTION] with up to nine fraction digits.
func parseUnix(v string) (time.Time, bool) {
	secs, frac, hasFrac := strings.Cut(v, ".")
	if !digits(secs) || (hasFrac && (!digits(frac) || len(frac) > 9)) {
		return time.Time{}, false
	}
	sec, err := strconv.ParseInt(secs, 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	var nsec int64
	if hasFrac {
		n, _ := strconv.ParseInt(frac+strings.Repeat("0", 9-len(frac)), 10, 64)
		nsec = n
	}
	return time.Unix(sec, nsec), true
}

func digits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

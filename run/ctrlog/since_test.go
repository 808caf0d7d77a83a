package ctrlog

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseSince(t *testing.T) {
	cet := time.FixedZone("CET", 3600)
	now := time.Date(2026, 11, 28, 22, 0, 0, 0, cet)
	for _, tc := range []struct {
		in   string
		want time.Time
	}{
		{"2026-11-28T21:00:00Z", time.Date(2026, 11, 28, 21, 0, 0, 0, time.UTC)},
		{"2026-11-28T21:00:00.123456789Z", time.Date(2026, 11, 28, 21, 0, 0, 123456789, time.UTC)},
		{"2026-11-28T21:00:00.5+02:00", time.Date(2026, 11, 28, 19, 0, 0, 500000000, time.UTC)},
		{"2026-11-28T21:00:00", time.Date(2026, 11, 28, 21, 0, 0, 0, cet)},
		{"2026-11-28T21:00:00.25", time.Date(2026, 11, 28, 21, 0, 0, 250000000, cet)},
		{"2026-11-28T21:00", time.Date(2026, 11, 28, 21, 0, 0, 0, cet)},
		{"2026-11-28", time.Date(2026, 11, 28, 0, 0, 0, 0, cet)},
		{"1764363600", time.Unix(1764363600, 0)},
		{"1764363600.5", time.Unix(1764363600, 500000000)},
		{"1764363600.000000001", time.Unix(1764363600, 1)},
		{"0", time.Unix(0, 0)},
		{"10m", now.Add(-10 * time.Minute)},
		{"1h30m", now.Add(-90 * time.Minute)},
		{" 90s ", now.Add(-90 * time.Second)},
	} {
		got, err := ParseSince(tc.in, now)
		if err != nil || !got.Equal(tc.want) {
			t.Errorf("ParseSince(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	for _, in := range []string{"", "yesterday", "10", "10x", "2026-13-01", "1764363600.1234567891", "1.2.3", "2026/11/28"} {
		_, err := ParseSince(in, now)
		if in == "10" {
			if err != nil {
				t.Errorf("ParseSince(%q): %v, want Unix seconds", in, err)
			}
			continue
		}
		if !errors.Is(err, ErrTime) || !strings.Contains(err.Error(), "10m") || strings.Contains(err.Error(), "\n") {
			t.Errorf("ParseSince(%q): %v; want one line with ErrTime and the forms", in, err)
		}
	}
}

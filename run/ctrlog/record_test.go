package ctrlog

import (
	"bytes"
	"testing"
	"time"
)

func TestParseRecord(t *testing.T) {
	for _, tc := range []struct {
		line    string
		ok      bool
		stream  int
		partial bool
		content string
	}{
		{"2026-11-28T21:00:00.123456789Z stdout F hello world", true, 0, false, "hello world"},
		{"2026-11-28T21:00:00Z stderr P part", true, 1, true, "part"},
		{"2026-11-28T21:00:00.5+01:00 stdout F ", true, 0, false, ""},
		{"2026-11-28T21:00:00Z stdout F", true, 0, false, ""},
		{"2026-11-28T21:00:00Z stdout F:x  two  spaces ", true, 0, false, " two  spaces "},
		{"2026-11-28T21:00:00Z stdin F x", false, 0, false, ""},
		{"2026-11-28T21:00:00Z stdout X x", false, 0, false, ""},
		{"2026-11-28T21:00:00Z stdout FP x", false, 0, false, ""},
		{"2026-11-28T21:00 stdout F x", false, 0, false, ""},
		{"garbage", false, 0, false, ""},
		{"", false, 0, false, ""},
		{"2026-11-28T21:00:00Z stdout", false, 0, false, ""},
	} {
		r, ok := parseRecord([]byte(tc.line))
		if ok != tc.ok {
			t.Errorf("parseRecord(%q) ok = %v, want %v", tc.line, ok, tc.ok)
			continue
		}
		if ok && (r.stream != tc.stream || r.partial != tc.partial || string(r.content) != tc.content) {
			t.Errorf("parseRecord(%q) = %d %v %q, want %d %v %q", tc.line,
				r.stream, r.partial, r.content, tc.stream, tc.partial, tc.content)
		}
	}
}

func FuzzParseRecord(f *testing.F) {
	f.Add([]byte("2026-11-28T21:00:00.123456789Z stdout F hello"), false, int64(0))
	f.Add([]byte("\x00\xff"), true, int64(1))
	f.Fuzz(func(t *testing.T, content []byte, partial bool, nsec int64) {
		parseRecord(content) // must not panic
		if bytes.IndexByte(content, '\n') >= 0 {
			return
		}
		ts := time.Unix(0, nsec).UTC()
		rec := appendRecord(nil, appendHeader(nil, ts, Stderr), partial, content)
		r, ok := parseRecord(rec[:len(rec)-1])
		if ts.Year() < 0 || ts.Year() > 9999 {
			return // RFC 3339 has four-digit years
		}
		if !ok || !r.time.Equal(ts) || r.stream != 1 || r.partial != partial || !bytes.Equal(r.content, content) {
			t.Fatalf("record %q read back as %+v, %v", rec, r, ok)
		}
	})
}

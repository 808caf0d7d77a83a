package ctrlog

import (
	"bytes"
	"time"
)

// The record format is CRI's (and Podman's k8s-file):
//
//	2026-11-28T21:00:00.123456789Z stdout F content\n
//
// timestamp, stream, tag, content, separated by one space. Tag F ends a line
// of the workload's output (the newline itself is not stored), tag P is a
// chunk of a line that goes on in the stream's next record. Content is raw
// bytes and never holds a newline.

const (
	// Stdout and Stderr are the two stream names.
	Stdout = "stdout"
	Stderr = "stderr"

	// MaxChunk is the most content bytes one record holds; a longer line
	// is split into P records ended by an F record.
	MaxChunk = 16 << 10

	// TimeFormat is the records' timestamp and the prefix `nook logs -t`
	// prints: RFC 3339 in UTC with nanoseconds always nine digits wide, so
	// that columns line up (Docker prints the same).
	TimeFormat = "2006-01-02T15:04:05.000000000Z07:00"

	// maxLine bounds a line the reader keeps while it waits for its
	// newline: a record is at most a timestamp, a stream, a tag and
	// MaxChunk bytes; anything much longer is not a record.
	maxLine = MaxChunk + 256
)

// streamIndex numbers the streams for arrays: stdout 0, stderr 1.
func streamIndex(name string) int {
	switch name {
	case Stdout:
		return 0
	case Stderr:
		return 1
	}
	return -1
}

var streamNames = [2]string{Stdout, Stderr}

// record is one parsed line; content points into the line's buffer.
type record struct {
	time    time.Time
	stream  int  // streamIndex
	partial bool // tag P
	content []byte
}

// appendHeader appends "TIMESTAMP STREAM " to b: the part every record of
// one write shares.
func appendHeader(b []byte, t time.Time, stream string) []byte {
	b = t.UTC().AppendFormat(b, TimeFormat)
	b = append(b, ' ')
	b = append(b, stream...)
	return append(b, ' ')
}

// appendRecord appends a record, given its header from appendHeader.
func appendRecord(b, header []byte, partial bool, content []byte) []byte {
	b = append(b, header...)
	if partial {
		b = append(b, 'P', ' ')
	} else {
		b = append(b, 'F', ' ')
	}
	b = append(b, content...)
	return append(b, '\n')
}

// parseRecord reads one line without its newline. It reports false for a
// line that is not a record (torn by a crash, or not a log at all); the
// reader skips those.
func parseRecord(line []byte) (record, bool) {
	var r record
	sp := bytes.IndexByte(line, ' ')
	if sp < 0 {
		return r, false
	}
	t, err := time.Parse(time.RFC3339Nano, string(line[:sp]))
	if err != nil {
		return r, false
	}
	r.time = t
	rest := line[sp+1:]
	sp = bytes.IndexByte(rest, ' ')
	if sp < 0 {
		return r, false
	}
	if r.stream = streamIndex(string(rest[:sp])); r.stream < 0 {
		return r, false
	}
	rest = rest[sp+1:]
	// CRI allows more tags after the first, separated by colons
	// ("P:x"); only the first means anything here. A record whose
	// content is empty may end right after the tag.
	tag := rest
	if sp = bytes.IndexByte(rest, ' '); sp >= 0 {
		tag, r.content = rest[:sp], rest[sp+1:]
	}
	if len(tag) == 0 || (len(tag) > 1 && tag[1] != ':') {
		return r, false
	}
	switch tag[0] {
	case 'P':
		r.partial = true
	case 'F':
	default:
		return r, false
	}
	return r, true
}

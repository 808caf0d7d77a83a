package userns

import (
	"fmt"
	"math"
	"sort"
)

// Range is one subordinate id range: Count ids from Start.
type Range struct {
	Start uint32 `json:"start"`
	Count uint32 `json:"count"`
}

// Mapping is one line of /proc/PID/uid_map or gid_map: Size ids from
// ContainerID inside the namespace are the Size ids from HostID in the
// parent namespace.
type Mapping struct {
	ContainerID uint32 `json:"container_id"`
	HostID      uint32 `json:"host_id"`
	Size        uint32 `json:"size"`
}

// String is the line as written to uid_map: "container host size".
func (m Mapping) String() string {
	return fmt.Sprintf("%d %d %d", m.ContainerID, m.HostID, m.Size)
}

const (
	// maxMapLines is how many lines the kernel takes in one uid_map
	// (340 since Linux 4.15).
	maxMapLines = 340
	// maxMapBytes: the kernel takes a map in one write of less than a
	// page; 4 KiB is the smallest page.
	maxMapBytes = 4095
	// noID is (uid_t)-1: never a valid id, never mapped.
	noID = math.MaxUint32
	// maxIDs keeps the last container id (maxIDs) below noID.
	maxIDs = noID - 1
)

// normalise sorts and merges ranges, clamps them below (uid_t)-1, cuts own
// out of them (the map already holds the user's id at 0, and the kernel
// refuses a map whose parent ids overlap), and keeps what fits beside the
// user's own line in a kernel map. Zero-length ranges go.
func normalise(rs []Range, own uint32) []Range {
	type span struct{ start, end uint64 } // [start, end)
	spans := make([]span, 0, len(rs))
	for _, r := range rs {
		s, e := uint64(r.Start), min(uint64(r.Start)+uint64(r.Count), noID)
		if s < e {
			spans = append(spans, span{s, e})
		}
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].start < spans[j].start })
	var merged []span
	for _, s := range spans {
		if n := len(merged); n > 0 && s.start <= merged[n-1].end {
			merged[n-1].end = max(merged[n-1].end, s.end)
			continue
		}
		merged = append(merged, s)
	}
	var out []Range
	var total uint64
	add := func(s, e uint64) {
		if s >= e || len(out) >= maxMapLines-1 || total >= maxIDs {
			return
		}
		e = min(e, s+maxIDs-total)
		out = append(out, Range{Start: uint32(s), Count: uint32(e - s)})
		total += e - s
	}
	o := uint64(own)
	for _, s := range merged {
		if s.start <= o && o < s.end {
			add(s.start, o)
			add(o+1, s.end)
			continue
		}
		add(s.start, s.end)
	}
	return out
}

// outerMaps puts id on container 0 and the ranges on 1..N, in order, as
// many as fit in the one write the kernel takes (less than a page).
func outerMaps(id uint32, rs []Range) []Mapping {
	m := []Mapping{{ContainerID: 0, HostID: id, Size: 1}}
	size := len(m[0].String()) + 1
	next := uint32(1)
	for _, r := range rs {
		l := Mapping{ContainerID: next, HostID: r.Start, Size: r.Count}
		if size += len(l.String()) + 1; size > maxMapBytes || len(m) == maxMapLines {
			break
		}
		m = append(m, l)
		next += r.Count
	}
	return m
}

// innerMaps is keep-id's nested map over an outer namespace holding ids
// 0..n: inner id is outer 0 (the user), and outer 1..n go, in order, to
// inner 0..id-1 and then id+1.. (podman's keep-id layout).
func innerMaps(id, n uint32) []Mapping {
	var m []Mapping
	if low := min(n, id); low > 0 {
		m = append(m, Mapping{ContainerID: 0, HostID: 1, Size: low})
	}
	m = append(m, Mapping{ContainerID: id, HostID: 0, Size: 1})
	if n > id {
		m = append(m, Mapping{ContainerID: id + 1, HostID: id + 1, Size: n - id})
	}
	return m
}

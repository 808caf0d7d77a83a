package userns

import "testing"

func FuzzParseSubIDs(f *testing.F) {
	for _, s := range []string{
		"alice:100000:65536\n", "1001:1:1\nalice:0x10:010\n", "# c\n\nalice:4294967294:2\n",
		"alice:1000:10\nalice:1005:10\n", "alice:4294967295:1\n", "alice::\n:::\n", "alice: +7:+8\r\n",
	} {
		f.Add([]byte(s), "alice", uint32(1001))
	}
	f.Fuzz(func(t *testing.T, data []byte, name string, own uint32) {
		rs := parseSubIDs(data, name, own)
		for _, r := range rs {
			if uint64(r.Start)+uint64(r.Count) > 1<<32 {
				t.Fatalf("range %v runs past 32 bits", r)
			}
		}
		n := normalise(rs, own)
		checkNormalised(t, n, own)
		checkNormalised(t, normalise(parseGetSubIDs(data), own), own)
		if own < noID {
			m := outerMaps(own, n)
			if len(m) > maxMapLines || len(mapText(m)) > maxMapBytes {
				t.Fatalf("map of %d lines, %d bytes", len(m), len(mapText(m)))
			}
			checkInner(t, innerMaps(own, mappedIDs(m)), mappedIDs(m))
		}
	})
}

// checkNormalised holds normalise to its promises: sorted, disjoint and
// not touching, non-empty, below (uid_t)-1, without own, fitting one map.
func checkNormalised(t *testing.T, rs []Range, own uint32) {
	t.Helper()
	var total uint64
	for i, r := range rs {
		end := uint64(r.Start) + uint64(r.Count)
		if r.Count == 0 || end > noID || (r.Start <= own && uint64(own) < end) {
			t.Fatalf("bad range %v (own %d) in %v", r, own, rs)
		}
		if i > 0 && uint64(rs[i-1].Start)+uint64(rs[i-1].Count) >= uint64(r.Start) {
			t.Fatalf("ranges %v and %v overlap, touch or are unsorted", rs[i-1], r)
		}
		total += uint64(r.Count)
	}
	if len(rs) > maxMapLines-1 || total > maxIDs {
		t.Fatalf("%d ranges holding %d ids", len(rs), total)
	}
}

func checkInner(t *testing.T, m []Mapping, n uint32) {
	t.Helper()
	var ids uint64
	for _, l := range m {
		if uint64(l.HostID)+uint64(l.Size) > uint64(n)+1 || uint64(l.ContainerID)+uint64(l.Size) > noID {
			t.Fatalf("inner line %v outside outer 0..%d", l, n)
		}
		ids += uint64(l.Size)
	}
	if ids != uint64(n)+1 {
		t.Fatalf("inner map %v holds %d ids, want %d", m, ids, uint64(n)+1)
	}
}

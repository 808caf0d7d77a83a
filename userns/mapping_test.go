package userns

import (
	"reflect"
	"strings"
	"testing"
)

func TestMappingString(t *testing.T) {
	if got := (Mapping{ContainerID: 1, HostID: 100000, Size: 65536}).String(); got != "1 100000 65536" {
		t.Errorf("String = %q", got)
	}
}

func TestNormalise(t *testing.T) {
	tests := []struct {
		desc string
		in   []Range
		own  uint32
		want []Range
	}{
		{"none", nil, 1001, nil},
		{"sorted", []Range{{300, 10}, {100, 10}}, 1001, []Range{{100, 10}, {300, 10}}},
		{"overlap and adjacency merge", []Range{{100, 10}, {105, 10}, {115, 5}, {200, 1}}, 1001, []Range{{100, 20}, {200, 1}}},
		{"contained range", []Range{{100, 100}, {150, 10}}, 1001, []Range{{100, 100}}},
		{"zero counts dropped", []Range{{5, 0}, {7, 1}}, 1001, []Range{{7, 1}}},
		{"own id cut out", []Range{{1000, 10}}, 1001, []Range{{1000, 1}, {1002, 8}}},
		{"own id at the start", []Range{{1001, 3}}, 1001, []Range{{1002, 2}}},
		{"own id alone", []Range{{1001, 1}}, 1001, nil},
		{"(uid_t)-1 never mapped", []Range{{4294967290, 6}}, 0, []Range{{4294967290, 5}}},
		{"total kept below (uid_t)-1", []Range{{0, 4294967295}}, 7, []Range{{0, 7}, {8, 4294967287}}},
	}
	for _, tt := range tests {
		if got := normalise(tt.in, tt.own); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: normalise(%v, %d) = %v, want %v", tt.desc, tt.in, tt.own, got, tt.want)
		}
	}
	var many []Range
	for i := range 1000 {
		many = append(many, Range{Start: uint32(100000 + 10*i), Count: 5})
	}
	if got := normalise(many, 0); len(got) != maxMapLines-1 || got[0] != (Range{100000, 5}) {
		t.Errorf("1000 ranges: kept %d (first %v), want %d from the lowest", len(got), got[0], maxMapLines-1)
	}
}

func TestOuterMaps(t *testing.T) {
	got := outerMaps(1001, []Range{{100000, 65536}, {300000, 10}})
	want := []Mapping{{0, 1001, 1}, {1, 100000, 65536}, {65537, 300000, 10}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("outerMaps = %v, want %v", got, want)
	}
	// 339 ranges with big numbers exceed the one page the kernel reads.
	var many []Range
	for i := range maxMapLines - 1 {
		many = append(many, Range{Start: uint32(1_000_000_000 + 100_000*i), Count: 99_999})
	}
	m := outerMaps(1001, many)
	if n := len(mapText(m)); n > maxMapBytes || len(m) < 10 {
		t.Errorf("outerMaps of %d big ranges: %d lines, %d bytes; want the most that fit in %d bytes", len(many), len(m), n, maxMapBytes)
	}
	next := Mapping{ContainerID: 1, HostID: many[len(m)-1].Start, Size: many[len(m)-1].Count}
	if len(mapText(m))+len(next.String())+1 <= maxMapBytes {
		t.Errorf("outerMaps stopped early at %d lines, %d bytes", len(m), len(mapText(m)))
	}
	if strings.Count(mapText(m), "\n") != len(m) {
		t.Errorf("mapText lines do not match the map")
	}
}

func TestInnerMaps(t *testing.T) {
	tests := []struct {
		desc  string
		id, n uint32
		want  []Mapping
	}{
		{"podman layout", 1001, 65536, []Mapping{{0, 1, 1001}, {1001, 0, 1}, {1002, 1002, 64535}}},
		{"fewer ids than the uid", 1001, 500, []Mapping{{0, 1, 500}, {1001, 0, 1}}},
		{"exactly the uid's worth", 1001, 1001, []Mapping{{0, 1, 1001}, {1001, 0, 1}}},
		{"no ranges", 1001, 0, []Mapping{{1001, 0, 1}}},
		{"root keeps root", 0, 65536, []Mapping{{0, 0, 1}, {1, 1, 65536}}},
	}
	for _, tt := range tests {
		got := innerMaps(tt.id, tt.n)
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: innerMaps(%d, %d) = %v, want %v", tt.desc, tt.id, tt.n, got, tt.want)
		}
		// Every outer id 0..n is used exactly once.
		seen := map[uint32]bool{}
		for _, l := range got {
			for i := range l.Size {
				if seen[l.HostID+i] {
					t.Errorf("%s: outer id %d used twice", tt.desc, l.HostID+i)
				}
				seen[l.HostID+i] = true
			}
		}
		if len(seen) != int(tt.n)+1 {
			t.Errorf("%s: %d outer ids used, want %d", tt.desc, len(seen), tt.n+1)
		}
	}
}

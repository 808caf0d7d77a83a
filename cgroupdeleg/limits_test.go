package cgroupdeleg

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nookrun/nook/internal/nstest"
)

// TestLimitsToFiles checks what each of Docker's flags writes, with the
// conversions runc uses for cpu.weight and io.weight.
func TestLimitsToFiles(t *testing.T) {
	for _, tc := range []struct {
		name string
		l    Limits
		want []File
	}{
		{"none", Limits{}, nil},
		{"memory, Docker's default swap", Limits{Memory: 64 << 20}, []File{
			{Name: "memory.max", Value: "67108864"}, {Name: "memory.swap.max", Value: "67108864", Optional: true}}},
		{"memory-swap total", Limits{Memory: 64 << 20, MemorySwap: 100 << 20}, []File{
			{Name: "memory.max", Value: "67108864"}, {Name: "memory.swap.max", Value: "37748736"}}},
		{"memory-swap equal: no swap", Limits{Memory: 64 << 20, MemorySwap: 64 << 20}, []File{
			{Name: "memory.max", Value: "67108864"}, {Name: "memory.swap.max", Value: "0"}}},
		{"memory-swap unlimited", Limits{Memory: 64 << 20, MemorySwap: -1}, []File{
			{Name: "memory.max", Value: "67108864"}, {Name: "memory.swap.max", Value: "max"}}},
		{"reservation", Limits{MemoryReservation: 32 << 20}, []File{{Name: "memory.low", Value: "33554432"}}},
		{"cpus 0.5", Limits{NanoCPUs: 5e8}, []File{{Name: "cpu.max", Value: "50000 100000"}}},
		{"cpus 1.5", Limits{NanoCPUs: 15e8}, []File{{Name: "cpu.max", Value: "150000 100000"}}},
		{"cpu-shares default", Limits{CPUShares: 1024}, []File{{Name: "cpu.weight", Value: "39"}}},
		{"cpu-shares min", Limits{CPUShares: 2}, []File{{Name: "cpu.weight", Value: "1"}}},
		{"cpu-shares max", Limits{CPUShares: 262144}, []File{{Name: "cpu.weight", Value: "10000"}}},
		{"cpuset", Limits{CPUSetCPUs: "0-1,3"}, []File{{Name: "cpuset.cpus", Value: "0-1,3"}}},
		{"pids", Limits{PidsLimit: 50}, []File{{Name: "pids.max", Value: "50"}}},
		{"pids unlimited", Limits{PidsLimit: -1}, nil},
		{"blkio-weight", Limits{BlkioWeight: 500}, []File{{Name: "io.weight", Value: "default 4950", Alt: "io.bfq.weight", AltValue: "500"}}},
		{"blkio-weight min", Limits{BlkioWeight: 10}, []File{{Name: "io.weight", Value: "default 1", Alt: "io.bfq.weight", AltValue: "10"}}},
	} {
		got, err := tc.l.Files()
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: %+v, %v; want %+v", tc.name, got, err, tc.want)
		}
	}
}

// TestDeviceRates writes io.max lines for a real block device, read and
// write rates of one device on one line, as the kernel takes them.
func TestDeviceRates(t *testing.T) {
	dev, num := blockDevice(t)
	l := Limits{DeviceReadBps: []DeviceRate{{dev, 2 << 20}}, DeviceWriteBps: []DeviceRate{{dev, 1 << 20}}}
	got, err := l.Files()
	want := []File{{Name: "io.max", Value: num + " rbps=2097152 wbps=1048576"}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("files %+v, %v; want %+v", got, err, want)
	}
	for _, bad := range []string{"/dev/null", "/nonexistent", t.TempDir()} {
		l := Limits{DeviceReadBps: []DeviceRate{{bad, 1}}}
		if _, err := l.Files(); !errors.Is(err, ErrLimit) {
			t.Errorf("device %s: %v, want ErrLimit", bad, err)
		}
	}
}

// blockDevice finds a block device of this machine and its MAJ:MIN.
func blockDevice(t *testing.T) (string, string) {
	ents, _ := os.ReadDir("/dev")
	for _, e := range ents {
		p := filepath.Join("/dev", e.Name())
		var st unix.Stat_t
		if unix.Stat(p, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFBLK {
			return p, fmt.Sprintf("%d:%d", unix.Major(st.Rdev), unix.Minor(st.Rdev))
		}
	}
	nstest.Skip(t, "no block device in /dev")
	return "", ""
}

func TestValidate(t *testing.T) {
	for _, bad := range []Limits{
		{Memory: 1 << 20},
		{Memory: -1},
		{MemorySwap: 100 << 20},
		{Memory: 64 << 20, MemorySwap: 32 << 20},
		{Memory: 64 << 20, MemorySwap: -2},
		{Memory: 64 << 20, MemoryReservation: 128 << 20},
		{NanoCPUs: 1e6},
		{CPUShares: 1},
		{CPUShares: 300000},
		{BlkioWeight: 5},
		{BlkioWeight: 1001},
		{CPUSetCPUs: "a"},
		{CPUSetCPUs: "3-1"},
		{CPUSetCPUs: "0,"},
	} {
		if err := bad.Validate(); !errors.Is(err, ErrLimit) {
			t.Errorf("%+v: %v, want ErrLimit", bad, err)
		}
	}
	for _, good := range []Limits{{}, {Memory: 6 << 20}, {Memory: 64 << 20, MemorySwap: -1}, {CPUSetCPUs: "0-1,3"}, {PidsLimit: -1}} {
		if err := good.Validate(); err != nil {
			t.Errorf("%+v: %v", good, err)
		}
	}
}

func TestFlags(t *testing.T) {
	l := Limits{Memory: 64 << 20, NanoCPUs: 5e8, PidsLimit: 50, DeviceWriteBps: []DeviceRate{{"/dev/x", 1}}}
	if got, want := l.Flags(), []string{"--memory", "--cpus", "--pids-limit", "--device-write-bps"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Flags = %q, want %q", got, want)
	}
	if !(Limits{PidsLimit: -1}).Empty() || l.Empty() {
		t.Error("Empty is wrong")
	}
}

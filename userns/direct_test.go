package userns

import (
	"reflect"
	"syscall"
	"testing"
)

// Only a plan that maps the user's own ids alone may be written by the
// parent; one with ranges needs the setuid helpers.
func TestDirect(t *testing.T) {
	nu, ng := installedHelpers(t)
	ranges := writeFile(t, "subid", "alice:100000:65536\n")
	base := Config{UID: 1001, GID: 1002, User: "alice", GetSubIDs: "-", SubUIDFile: ranges, SubGIDFile: ranges, NewUIDMap: nu, NewGIDMap: ng}

	single := base
	single.Mode = Single
	p, err := NewPlan(single)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Direct() {
		t.Errorf("single-id plan %+v is not direct", p)
	}
	uids, gids := p.SysProcIDMaps()
	if want := []syscall.SysProcIDMap{{ContainerID: 0, HostID: 1001, Size: 1}}; !reflect.DeepEqual(uids, want) {
		t.Errorf("uid maps %+v, want %+v", uids, want)
	}
	if want := []syscall.SysProcIDMap{{ContainerID: 0, HostID: 1002, Size: 1}}; !reflect.DeepEqual(gids, want) {
		t.Errorf("gid maps %+v, want %+v", gids, want)
	}

	sub := base
	sub.Mode = SubID
	p, err = NewPlan(sub)
	if err != nil {
		t.Fatal(err)
	}
	if p.Direct() {
		t.Errorf("subordinate-range plan %+v is direct", p)
	}
}

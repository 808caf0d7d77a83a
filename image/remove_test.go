package image

import (
	"errors"
	"slices"
	"testing"

	"github.com/nookrun/nook/image/imagetest"
)

func TestRemove(t *testing.T) {
	s := openStore(t)
	bb := mustLoad(t, s, dockerArchive(t, imagetest.Busybox(t), "busybox:latest", "bb:2"))[0]
	owners := mustLoad(t, s, dockerArchive(t, imagetest.ManyOwners(t), "owners:1"))[0]

	// By name, with another name left: untag only.
	did, err := s.Remove("bb:2", RemoveOptions{})
	if err != nil || !slices.Equal(did, []string{"Untagged: docker.io/library/bb:2"}) {
		t.Fatalf("Remove(bb:2) = %q, %v", did, err)
	}
	if img, err := s.Lookup(bb.ID); err != nil || !slices.Equal(img.Names, []string{"docker.io/library/busybox:latest"}) {
		t.Errorf("after untag: %+v, %v", img, err)
	}

	// By ID with several names: refused without Force.
	if err := s.Tag("busybox", "bb:3"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Remove(bb.ID[7:19], RemoveOptions{}); !errors.Is(err, ErrTagged) {
		t.Errorf("Remove(ID of a twice-named image) = %v, want ErrTagged", err)
	}

	// In use: refused, or untagged only with Force.
	inUse := func(id string) bool { return id == bb.ID }
	if _, err := s.Remove("busybox", RemoveOptions{InUse: inUse}); err != nil {
		t.Errorf("untagging one of two names of an image in use: %v", err)
	}
	if _, err := s.Remove("bb:3", RemoveOptions{InUse: inUse}); !errors.Is(err, ErrInUse) {
		t.Errorf("Remove(last name of an image in use) = %v, want ErrInUse", err)
	}
	did, err = s.Remove("bb:3", RemoveOptions{InUse: inUse, Force: true})
	if err != nil || !slices.Equal(did, []string{"Untagged: docker.io/library/bb:3"}) {
		t.Errorf("forced Remove of an image in use = %q, %v; want untag only", did, err)
	}
	if img, err := s.Lookup(bb.ID); err != nil || len(img.Names) != 0 {
		t.Errorf("image in use after forced remove: %+v, %v; want it kept without names", img, err)
	}

	// By ID, no names, not in use: deleted, and its layer with it; the
	// owners image keeps its own two layers.
	did, err = s.Remove(bb.ID, RemoveOptions{})
	if err != nil || !slices.Equal(did, []string{"Deleted: " + bb.ID}) {
		t.Fatalf("Remove(ID) = %q, %v", did, err)
	}
	if _, err := s.Lookup(bb.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("Lookup after delete = %v, want ErrNotFound", err)
	}
	if files := layerFiles(t, s); len(files) != 4 {
		t.Errorf("layers = %q, want the owners image's two pairs", files)
	}
	checkConsistent(t, s)

	// The last name of the last image: everything goes.
	did, err = s.Remove("owners:1", RemoveOptions{})
	if err != nil || !slices.Equal(did, []string{"Untagged: docker.io/library/owners:1", "Deleted: " + owners.ID}) {
		t.Fatalf("Remove(owners:1) = %q, %v", did, err)
	}
	if files := layerFiles(t, s); len(files) != 0 {
		t.Errorf("layers left: %q", files)
	}
	if snap := snapshot(t, s.Root()); len(snap) != 7 {
		t.Errorf("store after removing everything: %v", snap)
	}

	if _, err := s.Remove("nosuch", RemoveOptions{}); !errors.Is(err, ErrNotFound) {
		t.Errorf("Remove(nosuch) = %v, want ErrNotFound", err)
	}
}

// TestSharedLayerSurvives removes one of two images that share a layer.
func TestSharedLayerSurvives(t *testing.T) {
	s := openStore(t)
	mustLoad(t, s, dockerArchive(t, imagetest.Busybox(t), "a:1"))
	b := mustLoad(t, s, dockerArchive(t, imagetest.Busybox(t, imagetest.WithCmd("true")), "b:1"))[0]
	if _, err := s.Remove("a:1", RemoveOptions{}); err != nil {
		t.Fatal(err)
	}
	if files := layerFiles(t, s); len(files) != 2 {
		t.Errorf("layers = %q, want b's", files)
	}
	if _, err := s.Lookup(b.ID); err != nil {
		t.Error(err)
	}
	checkConsistent(t, s)
}

// TestHoldDefersCollection: while the store is held, garbage waits.
func TestHoldDefersCollection(t *testing.T) {
	s := openStore(t)
	mustLoad(t, s, dockerArchive(t, imagetest.Busybox(t), "a:1"))
	release, err := s.Hold()
	if err != nil {
		t.Fatal(err)
	}
	if unlock, err := s.gcLock(true); !errors.Is(err, errBusy) {
		if err == nil {
			unlock()
		}
		t.Fatalf("gc lock while held = %v, want errBusy", err)
	}
	// Remove's first half: the image leaves images.json at once.
	if _, deleted, err := s.untagOrDelete("a:1", RemoveOptions{}); err != nil || !deleted {
		t.Fatalf("untagOrDelete = %v, %v", deleted, err)
	}
	s.collectAfterFailure() // gives up: the store is held
	if files := layerFiles(t, s); len(files) != 2 {
		t.Errorf("layers while held = %q, want them kept", files)
	}
	release()
	if err := s.gc(); err != nil {
		t.Fatal(err)
	}
	if files := layerFiles(t, s); len(files) != 0 {
		t.Errorf("layers after release = %q, want none", files)
	}
}

func TestTag(t *testing.T) {
	s := openStore(t)
	a := mustLoad(t, s, dockerArchive(t, imagetest.Busybox(t), "a:1"))[0]
	b := mustLoad(t, s, dockerArchive(t, imagetest.Busybox(t, imagetest.WithCmd("true")), "b:1"))[0]
	if err := s.Tag("a:1", "localhost/x"); err != nil {
		t.Fatal(err)
	}
	if img, _ := s.Lookup("localhost/x:latest"); img.ID != a.ID {
		t.Errorf("localhost/x is %s, want %s", img.ID, a.ID)
	}
	// The name moves.
	if err := s.Tag(b.ID, "localhost/x"); err != nil {
		t.Fatal(err)
	}
	if img, _ := s.Lookup("localhost/x"); img.ID != b.ID {
		t.Errorf("localhost/x is %s, want %s", img.ID, b.ID)
	}
	if img, _ := s.Lookup(a.ID); !slices.Equal(img.Names, []string{"docker.io/library/a:1"}) {
		t.Errorf("a's names = %q", img.Names)
	}
	for _, bad := range []string{"UPPER", "a@sha256:" + a.ID[7:], ""} {
		if err := s.Tag("a:1", bad); !errors.Is(err, ErrInvalidReference) {
			t.Errorf("Tag(a:1, %q) = %v, want ErrInvalidReference", bad, err)
		}
	}
	if err := s.Tag("nosuch", "y"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Tag(nosuch) = %v, want ErrNotFound", err)
	}
}

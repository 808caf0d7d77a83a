package image

import (
	"testing"

	"github.com/nookrun/nook/image/imagetest"
	"github.com/nookrun/nook/layer"
)

func TestPrune(t *testing.T) {
	s := openStore(t)
	a := loadImage(t, s, "owners:1")
	// Loading another build under the same name leaves the first dangling.
	b := loadImage(t, s, "owners:1", imagetest.WithEnv("B=1"))
	c := loadImage(t, s, "kept:1", imagetest.WithEnv("C=1"))
	rep, err := s.Prune(PruneOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Deleted) != 1 || rep.Deleted[0] != a.ID || len(rep.Untagged) != 0 || rep.Reclaimed <= 0 {
		t.Fatalf("prune: %+v, want %s deleted and bytes reclaimed", rep, a.ID)
	}
	// Layers shared with the remaining images stay.
	for _, ref := range []string{"owners:1", "kept:1"} {
		img, err := s.Lookup(ref)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range img.Layers {
			if !layer.Exists(s.layers(), l.DiffID) {
				t.Errorf("%s: layer %s pruned", ref, l.DiffID)
			}
		}
	}
	rep, err = s.Prune(PruneOptions{All: true, InUse: func(id string) bool { return id == c.ID }})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Deleted) != 1 || rep.Deleted[0] != b.ID || len(rep.Untagged) != 1 {
		t.Fatalf("prune -a: %+v, want %s deleted (%s is in use)", rep, b.ID, c.ID)
	}
	imgs, _ := s.List()
	if len(imgs) != 1 || imgs[0].ID != c.ID {
		t.Errorf("left: %+v", imgs)
	}
}

package image

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/nookrun/nook/image/imagetest"
	"github.com/nookrun/nook/layer"
)

// anonymous is a keychain with no credentials, so that tests never read
// the user's.
func anonymous() RemoteOption { return WithKeychain(FileKeychain()) }

func mustDigest(t *testing.T, img v1.Image) (manifest, id string) {
	t.Helper()
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	c, err := img.ConfigName()
	if err != nil {
		t.Fatal(err)
	}
	return d.String(), c.String()
}

func layerDigests(t *testing.T, img v1.Image) []string {
	t.Helper()
	ls, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range ls {
		d, err := l.Digest()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, d.String())
	}
	return out
}

func TestPullByTagAndDigest(t *testing.T) {
	reg := imagetest.StartRegistry(t)
	img := imagetest.Layered(t, 2, 64<<10)
	if err := reg.Push("test/layered:1", img); err != nil {
		t.Fatal(err)
	}
	mdig, id := mustDigest(t, img)
	s := openStore(t)
	got, err := s.Pull(context.Background(), reg.Host+"/test/layered:1", anonymous())
	if err != nil {
		t.Fatal(err)
	}
	want := reg.Host + "/test/layered:1"
	if got.ID != id || len(got.Names) != 1 || got.Names[0] != want || got.ManifestDigest != mdig || len(got.Layers) != 3 {
		t.Fatalf("pulled %+v, want ID %s named %s with manifest %s and 3 layers", got, id, want, mdig)
	}
	if len(got.Digests) != 1 || got.Digests[0] != reg.Host+"/test/layered@"+mdig {
		t.Errorf("digests = %v", got.Digests)
	}
	for _, l := range got.Layers {
		lay, err := layer.Open(s.layers(), l.DiffID)
		if err != nil {
			t.Fatalf("layer %s: %v", l.DiffID, err)
		}
		lay.Close()
	}
	if _, err := s.Lookup("test/layered:1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("lookup without the registry: %v, want not found (another registry)", err)
	}
	for _, ref := range []string{want, reg.Host + "/test/layered@" + mdig, id[7:19]} {
		if l, err := s.Lookup(ref); err != nil || l.ID != id {
			t.Errorf("lookup %s = %s, %v", ref, l.ID, err)
		}
	}

	// By digest, into another store: named by the digest, as Podman
	// names it, so that prune keeps it.
	s2 := openStore(t)
	got, err = s2.Pull(context.Background(), reg.Host+"/test/layered@"+mdig, anonymous())
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != id || len(got.Names) != 1 || got.Names[0] != reg.Host+"/test/layered@"+mdig {
		t.Errorf("by digest: %+v", got)
	}
	if rep, err := s2.Prune(PruneOptions{}); err != nil || len(rep.Deleted) != 0 {
		t.Errorf("prune took an image pulled by digest: %+v %v", rep, err)
	}
	if _, err := s2.Lookup(reg.Host + "/test/layered@" + mdig); err != nil {
		t.Error(err)
	}
}

func TestPullIndexPlatforms(t *testing.T) {
	reg := imagetest.StartRegistry(t)
	idx := imagetest.Index(t, "amd64", "arm64")
	if err := reg.PushIndex("test/multi:1", idx); err != nil {
		t.Fatal(err)
	}
	idxDigest, err := idx.Digest()
	if err != nil {
		t.Fatal(err)
	}
	ref := reg.Host + "/test/multi:1"
	for _, arch := range []string{"arm64", "amd64"} {
		s := openStore(t)
		img, err := s.Pull(context.Background(), ref, anonymous(), WithPlatform("linux/"+arch))
		if err != nil {
			t.Fatalf("%s: %v", arch, err)
		}
		if img.Config.Labels["arch"] != arch || img.Platform != "linux/"+arch {
			t.Errorf("asked for %s, got the image labelled %q for %s", arch, img.Config.Labels["arch"], img.Platform)
		}
		// The digest the tag named (the index's) finds the image too.
		if l, err := s.Lookup(reg.Host + "/test/multi@" + idxDigest.String()); err != nil || l.ID != img.ID {
			t.Errorf("lookup by the index digest: %v", err)
		}
	}
	s := openStore(t)
	before := snapshot(t, s.Root())
	_, err = s.Pull(context.Background(), ref, anonymous(), WithPlatform("linux/s390x"))
	if !errors.Is(err, ErrPlatformNotFound) {
		t.Fatalf("s390x: %v, want ErrPlatformNotFound", err)
	}
	if !strings.Contains(err.Error(), "has no image for linux/s390x, only for linux/amd64, linux/arm64/v8") {
		t.Errorf("message: %v", err)
	}
	if d := diffSnapshots(before, snapshot(t, s.Root())); len(d) > 0 {
		t.Errorf("failed pull changed the store: %v", d)
	}
}

func TestPullZstdAndWhiteouts(t *testing.T) {
	reg := imagetest.StartRegistry(t)
	img := imagetest.ManyOwners(t, imagetest.WithZstd())
	if err := reg.Push("test/owners:zstd", img); err != nil {
		t.Fatal(err)
	}
	_, id := mustDigest(t, img)
	s := openStore(t)
	got, err := s.Pull(context.Background(), reg.Host+"/test/owners:zstd", anonymous())
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != id || len(got.Layers) != 2 {
		t.Fatalf("pulled %s with %d layers, want %s with 2", got.ID, len(got.Layers), id)
	}
	top, err := layer.Open(s.layers(), got.Layers[1].DiffID)
	if err != nil {
		t.Fatal(err)
	}
	defer top.Close()
	etc, ok := top.Lookup(layer.Root, "etc")
	if !ok {
		t.Fatal("no etc in the top layer")
	}
	wid, ok := top.Lookup(etc, "whited-out")
	var e layer.Entry
	if ok {
		top.Entry(wid, &e)
	}
	if !ok || e.Kind != layer.KindWhiteout {
		t.Errorf("etc/whited-out in the top layer: %v %v, want a whiteout", ok, e.Kind)
	}
}

func TestPullSkipsPresentLayers(t *testing.T) {
	reg := imagetest.StartRegistry(t)
	small := imagetest.Layered(t, 1, 32<<10)
	big := imagetest.Layered(t, 2, 32<<10)
	if err := reg.Push("test/a:1", small); err != nil {
		t.Fatal(err)
	}
	if err := reg.Push("test/b:1", big); err != nil {
		t.Fatal(err)
	}
	s := openStore(t)
	for _, ref := range []string{"test/a:1", "test/b:1", "test/b:1"} {
		if _, err := s.Pull(context.Background(), reg.Host+"/"+ref, anonymous()); err != nil {
			t.Fatal(err)
		}
	}
	for i, d := range layerDigests(t, big) {
		if n := reg.BlobGets(d); n != 1 {
			t.Errorf("layer %d (%s) fetched %d times, want once", i, d, n)
		}
	}
}

func TestPullCorruptBlobRefused(t *testing.T) {
	reg := imagetest.StartRegistry(t)
	img := imagetest.Layered(t, 2, 32<<10)
	if err := reg.Push("test/bad:1", img); err != nil {
		t.Fatal(err)
	}
	ds := layerDigests(t, img)
	reg.Corrupt(ds[2])
	s := openStore(t)
	before := snapshot(t, s.Root())
	_, err := s.Pull(context.Background(), reg.Host+"/test/bad:1", anonymous(), WithJobs(1))
	if !errors.Is(err, ErrDigestMismatch) {
		t.Fatalf("pull of a corrupt blob: %v, want ErrDigestMismatch", err)
	}
	if d := diffSnapshots(before, snapshot(t, s.Root())); len(d) > 0 {
		t.Errorf("failed pull changed the store: %v", d)
	}
	// A corrupt config is refused too.
	cfg, _ := img.ConfigName()
	reg2 := imagetest.StartRegistry(t)
	if err := reg2.Push("test/bad:1", img); err != nil {
		t.Fatal(err)
	}
	reg2.Corrupt(cfg.String())
	if _, err := s.Pull(context.Background(), reg2.Host+"/test/bad:1", anonymous()); !errors.Is(err, ErrDigestMismatch) {
		t.Errorf("pull of a corrupt config: %v, want ErrDigestMismatch", err)
	}
	if d := diffSnapshots(before, snapshot(t, s.Root())); len(d) > 0 {
		t.Errorf("failed pull changed the store: %v", d)
	}
}

func TestPullErrors(t *testing.T) {
	reg := imagetest.StartRegistry(t)
	if err := reg.Push("test/there:1", imagetest.Busybox(t)); err != nil {
		t.Fatal(err)
	}
	s := openStore(t)
	before := snapshot(t, s.Root())
	for _, c := range []struct {
		ref  string
		want error
		msg  string
	}{
		{reg.Host + "/test/there:2", ErrNotFound, "(tried " + reg.Host + ")"},
		{reg.Host + "/test/nothere:1", ErrNotFound, "(tried " + reg.Host + ")"},
		{"127.0.0.1:1/test/x:1", ErrUnreachable, "connection refused"},
		{"Not A Name", ErrInvalidReference, ""},
	} {
		_, err := s.Pull(context.Background(), c.ref, anonymous())
		if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("pull %s: %v, want %v with %q", c.ref, err, c.want, c.msg)
		}
	}
	if d := diffSnapshots(before, snapshot(t, s.Root())); len(d) > 0 {
		t.Errorf("failed pulls changed the store: %v", d)
	}
}

func TestPullConcurrentGoroutines(t *testing.T) {
	reg := imagetest.StartRegistry(t)
	img := imagetest.Layered(t, 3, 256<<10)
	if err := reg.Push("test/conc:1", img); err != nil {
		t.Fatal(err)
	}
	_, id := mustDigest(t, img)
	s := openStore(t)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = s.Pull(context.Background(), reg.Host+"/test/conc:1", anonymous())
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("pull %d: %v", i, err)
		}
	}
	imgs, err := s.List()
	if err != nil || len(imgs) != 1 || imgs[0].ID != id {
		t.Fatalf("images after concurrent pulls: %+v, %v", imgs, err)
	}
	for _, d := range layerDigests(t, img) {
		if n := reg.BlobGets(d); n != 1 {
			t.Errorf("layer %s fetched %d times by 4 concurrent pulls, want once", d, n)
		}
	}
	assertNoTemporaries(t, s)
}

// assertNoTemporaries fails when the store holds a temporary file or a
// layer lock.
func assertNoTemporaries(t *testing.T, s *Store) {
	t.Helper()
	for _, dir := range []string{s.layers(), filepath.Join(s.Root(), blobsDir), s.Root()} {
		matches, _ := filepath.Glob(filepath.Join(dir, ".*"))
		if len(matches) > 0 {
			t.Errorf("left in %s: %v", dir, matches)
		}
	}
}

func TestPullCancelledThenResumed(t *testing.T) {
	reg := imagetest.StartRegistry(t)
	img := imagetest.Layered(t, 2, 1<<20)
	if err := reg.Push("test/cancel:1", img); err != nil {
		t.Fatal(err)
	}
	s := openStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	stalled := reg.Stall()
	done := make(chan error, 1)
	go func() {
		_, err := s.Pull(ctx, reg.Host+"/test/cancel:1", anonymous(), WithJobs(1))
		done <- err
	}()
	<-stalled
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled pull: %v, want context.Canceled", err)
	}
	if imgs, err := s.List(); err != nil || len(imgs) != 0 {
		t.Fatalf("a cancelled pull stored %d images (%v)", len(imgs), err)
	}
	assertNoTemporaries(t, s)
	got, err := s.Pull(context.Background(), reg.Host+"/test/cancel:1", anonymous())
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range got.Layers {
		if !layer.Exists(s.layers(), l.DiffID) {
			t.Errorf("layer %s missing after the second pull", l.DiffID)
		}
	}
}

func TestPullTLSVerify(t *testing.T) {
	reg := imagetest.StartRegistry(t, imagetest.WithTLS())
	if err := reg.Push("test/tls:1", imagetest.Busybox(t)); err != nil {
		t.Fatal(err)
	}
	s := openStore(t)
	ref := reg.Host + "/test/tls:1"
	_, err := s.Pull(context.Background(), ref, anonymous())
	if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("an untrusted certificate: %v, want ErrUnreachable naming the certificate", err)
	}
	if _, err := s.Pull(context.Background(), ref, anonymous(), WithTLSVerify(false)); err != nil {
		t.Errorf("--tls-verify=false: %v", err)
	}
	host, _, _ := strings.Cut(reg.Host, ":")
	insecure := &Registries{Entries: []RegistryEntry{{Prefix: reg.Host, Insecure: true}}}
	if _, err := openStore(t).Pull(context.Background(), ref, anonymous(), WithRegistries(insecure)); err != nil {
		t.Errorf("registries.conf insecure = true for %s (%s): %v", reg.Host, host, err)
	}
}

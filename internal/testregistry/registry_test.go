package testregistry

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/nookrun/nook/image/imagetest"
)

func pull(t *testing.T, ref string, auth authn.Authenticator) (v1.Image, error) {
	t.Helper()
	r, err := name.ParseReference(ref, name.StrictValidation)
	if err != nil {
		t.Fatal(err)
	}
	return remote.Image(r, remote.WithAuth(auth), remote.WithContext(context.Background()))
}

// TestPushPull pushes the busybox image and pulls it back: same manifest
// digest, same layer bytes.
func TestPushPull(t *testing.T) {
	img := imagetest.Busybox(t)
	r := New(t)
	ctx := context.Background()
	if ok, err := r.Has(ctx, "library/busybox:latest"); err != nil || ok {
		t.Fatalf("Has before the push = %v, %v; want false, nil", ok, err)
	}
	if err := r.Push(ctx, "library/busybox:latest", img); err != nil {
		t.Fatal(err)
	}
	if ok, err := r.Has(ctx, "library/busybox:latest"); err != nil || !ok {
		t.Fatalf("Has after the push = %v, %v; want true, nil", ok, err)
	}
	got, err := pull(t, r.Ref("library/busybox:latest"), authn.Anonymous)
	if err != nil {
		t.Fatal(err)
	}
	wantDigest, _ := img.Digest()
	gotDigest, err := got.Digest()
	if err != nil {
		t.Fatal(err)
	}
	if gotDigest != wantDigest {
		t.Errorf("pulled digest %s, pushed %s", gotDigest, wantDigest)
	}
	layers, err := got.Layers()
	if err != nil {
		t.Fatal(err)
	}
	if len(layers) != 1 {
		t.Fatalf("pulled %d layers, want 1", len(layers))
	}
	checkLayer(t, layers[0])
	// The store really is in the directory the registry was given.
	if _, err := os.Stat(filepath.Join(r.Dir(), storageDir, "docker", "registry", "v2", "repositories", "library", "busybox")); err != nil {
		t.Errorf("the repository is not in the registry's storage: %v", err)
	}
}

// checkLayer reads a pulled layer through, which checks its digest.
func checkLayer(t *testing.T, l v1.Layer) {
	t.Helper()
	rc, err := l.Compressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if _, err := rc.Read(make([]byte, 1)); err != nil {
		t.Fatal(err)
	}
	if err := drain(rc); err != nil {
		t.Fatalf("read pulled layer: %v", err)
	}
}

// TestAuth: with htpasswd auth, anonymous pulls and pushes are refused with
// 401, and the credentials work.
func TestAuth(t *testing.T) {
	img := imagetest.Busybox(t)
	r := New(t, WithAuth("nook", "s3cret pass"))
	ctx := context.Background()
	if user, pass := r.Credentials(); user != "nook" || pass != "s3cret pass" {
		t.Errorf("Credentials() = %q, %q", user, pass)
	}
	if err := r.Push(ctx, "auth/bb:1", img); err != nil {
		t.Fatal(err)
	}
	_, err := pull(t, r.Ref("auth/bb:1"), authn.Anonymous)
	var te *transport.Error
	if !errors.As(err, &te) || te.StatusCode != http.StatusUnauthorized {
		t.Fatalf("anonymous pull: %v; want 401 Unauthorized", err)
	}
	_, err = pull(t, r.Ref("auth/bb:1"), &authn.Basic{Username: "nook", Password: "wrong"})
	if !errors.As(err, &te) || te.StatusCode != http.StatusUnauthorized {
		t.Fatalf("pull with a wrong password: %v; want 401 Unauthorized", err)
	}
	got, err := pull(t, r.Ref("auth/bb:1"), r.Auth())
	if err != nil {
		t.Fatalf("pull with the credentials: %v", err)
	}
	if _, err := got.ConfigFile(); err != nil {
		t.Fatal(err)
	}
}

// TestStop: Stop ends the process and closes the port; a second Stop is a
// no-op.
func TestStop(t *testing.T) {
	r, err := Start(context.Background(), t.TempDir())
	if errors.Is(err, ErrNoRegistry) {
		New(t) // skips (or fails in strict mode) with the reason
	}
	if err != nil {
		t.Fatal(err)
	}
	pid := r.PID()
	if err := r.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := r.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	select {
	case <-r.exited:
	default:
		t.Fatalf("process %d not reaped after Stop", pid)
	}
	conn, err := net.DialTimeout("tcp", r.Host(), time.Second)
	if err == nil {
		conn.Close()
		t.Fatalf("%s still accepts connections after Stop", r.Host())
	}
}

// TestStorageKept: a registry started again on the same directory serves
// what the first one stored, on whatever port it gets now.
func TestStorageKept(t *testing.T) {
	img := imagetest.Busybox(t)
	dir := t.TempDir()
	ctx := context.Background()
	first, err := Start(ctx, dir)
	if errors.Is(err, ErrNoRegistry) {
		New(t)
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Push(ctx, "kept/bb:1", img); err != nil {
		first.Stop()
		t.Fatal(err)
	}
	if err := first.Stop(); err != nil {
		t.Fatal(err)
	}
	second, err := Start(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { second.Stop() })
	if ok, err := second.Has(ctx, "kept/bb:1"); err != nil || !ok {
		t.Fatalf("Has on the restarted registry = %v, %v; want true, nil", ok, err)
	}
}

// TestMissingBinary: a registry binary that is not there is ErrNoRegistry,
// the error New skips on.
func TestMissingBinary(t *testing.T) {
	_, err := Start(context.Background(), t.TempDir(), WithBinary(filepath.Join(t.TempDir(), "docker-registry")))
	if !errors.Is(err, ErrNoRegistry) {
		t.Fatalf("Start with a missing binary: %v; want ErrNoRegistry", err)
	}
}

// TestExitEarly: a registry process that exits before it answers is
// ErrNotReady at once, not after the start timeout.
func TestExitEarly(t *testing.T) {
	bin, err := exec.LookPath("false")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = Start(context.Background(), t.TempDir(), WithBinary(bin), WithStartTimeout(time.Minute))
	if !errors.Is(err, ErrNotReady) {
		t.Fatalf("Start of %s: %v; want ErrNotReady", bin, err)
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("Start took %v to fail", d)
	}
}

// TestPortTaken: a registry whose port another registry holds exits with
// "address already in use", which Start tells from other failures (and
// tries another port), and is never taken as ready for the other's
// answers.
func TestPortTaken(t *testing.T) {
	holder := New(t)
	bin, err := findBinary("")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	r := &Registry{host: holder.Host(), dir: dir, logPath: filepath.Join(dir, logFile)}
	if err := writeConfig(filepath.Join(dir, configFile), r.host, filepath.Join(dir, storageDir), ""); err != nil {
		t.Fatal(err)
	}
	if err := r.start(bin); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Stop() })
	err = r.waitReady(context.Background(), time.Minute)
	if !errors.Is(err, ErrNotReady) {
		t.Fatalf("waitReady on a taken port: %v; want ErrNotReady", err)
	}
	if !r.portTaken() {
		t.Fatalf("portTaken() = false; log: %s", r.logTail())
	}
}

func TestOptionsValidated(t *testing.T) {
	for _, o := range []Option{WithAuth("", "x"), WithAuth("a:b", "x"), WithAuth("a", ""), WithBinary(""), WithStartTimeout(0)} {
		if _, err := Start(context.Background(), t.TempDir(), o); err == nil {
			t.Errorf("an invalid option was accepted")
		}
	}
}

// TestRandomImage: generated layers are deterministic, their digests are
// what the registry checks on push, and their content is what the spec
// says.
func TestRandomImage(t *testing.T) {
	imagetest.Busybox(t) // skips without busybox
	specs := []LayerSpec{
		{Dir: "data/raw", Files: 3, FileSize: 1 << 20, Seed: 1},
		{Dir: "data/text", Files: 100, FileSize: 4096, Text: true, Seed: 2},
	}
	img, err := RandomImage(t.TempDir(), specs...)
	if err != nil {
		t.Fatal(err)
	}
	again, err := RandomImage(t.TempDir(), specs...)
	if err != nil {
		t.Fatal(err)
	}
	d1, _ := img.Digest()
	d2, _ := again.Digest()
	if d1 != d2 {
		t.Errorf("the same specs gave images %s and %s", d1, d2)
	}
	r := New(t)
	ctx := context.Background()
	if err := r.Push(ctx, "random/img:1", img); err != nil {
		t.Fatal(err)
	}
	got, err := pull(t, r.Ref("random/img:1"), authn.Anonymous)
	if err != nil {
		t.Fatal(err)
	}
	layers, err := got.Layers()
	if err != nil {
		t.Fatal(err)
	}
	if len(layers) != 3 {
		t.Fatalf("pulled %d layers, want 3", len(layers))
	}
	for i, spec := range specs {
		files := layerFiles(t, layers[i+1])
		if len(files) != spec.Files {
			t.Errorf("layer %d has %d files, want %d", i+1, len(files), spec.Files)
		}
		for name, size := range files {
			if size != spec.FileSize {
				t.Errorf("layer %d: %s has %d bytes, want %d", i+1, name, size, spec.FileSize)
			}
		}
		size, _ := layers[i+1].Size()
		switch {
		case !spec.Text && size < spec.Size():
			t.Errorf("layer %d (raw) compressed to %d bytes, less than its %d bytes of random data", i+1, size, spec.Size())
		case spec.Text && size > spec.Size()*3/4:
			t.Errorf("layer %d (text) compressed to %d bytes of %d", i+1, size, spec.Size())
		}
	}
}

func TestLayerSpecValidated(t *testing.T) {
	for _, s := range []LayerSpec{
		{Dir: "", Files: 1},
		{Dir: "/abs", Files: 1},
		{Dir: "../up", Files: 1},
		{Dir: "a//b", Files: 1},
		{Dir: "ok", Files: 0},
		{Dir: "ok", Files: 1, FileSize: -1},
	} {
		if _, err := WriteLayer(filepath.Join(t.TempDir(), "l.tar.gz"), s); err == nil {
			t.Errorf("WriteLayer accepted %+v", s)
		}
	}
}

func TestInstalled(t *testing.T) {
	if err := Installed(WithBinary(filepath.Join(t.TempDir(), "none"))); !errors.Is(err, ErrNoRegistry) {
		t.Errorf("Installed with a missing binary: %v; want ErrNoRegistry", err)
	}
	if err := Installed(WithAuth("u", "p")); err != nil {
		New(t, WithAuth("u", "p")) // skips (fails in strict mode) for the same reason
		t.Fatalf("Installed() = %v, but New started the registry", err)
	}
}

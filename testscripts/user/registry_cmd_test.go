package usertest

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/rogpeppe/go-internal/testscript"

	"github.com/nookrun/nook/image/imagetest"
	"github.com/nookrun/nook/internal/nstest"
	"github.com/nookrun/nook/internal/testregistry"
)

// The registry scripts' commands (registered in commands_test.go):
//
//	registry start [-auth USER:PASS]
//	    start Debian's docker-registry (internal/testregistry) on a free
//	    loopback port for the rest of the script, stopped when the script
//	    ends; set $REGISTRY to its host:port (with -auth, also
//	    $REGISTRY_USER and $REGISTRY_PASSWORD). Scripts begin with
//	    [!registry] skip (see registryCondition).
//	registry push [-random SIZE] REPO:TAG
//	    push imagetest's busybox, with -random plus a layer of SIZE bytes
//	    of incompressible data ("256MiB"), to $REGISTRY/REPO:TAG with the
//	    registry's credentials, straight from the test (not through nook)
//	waitfile FILE REGEX
//	    wait until FILE exists and its content matches REGEX (for output
//	    a background command writes to a file)
//
// The registry runs in / with an environment of its own, so it is none
// of the script's processes that leftovers looks for; its storage is
// $WORK/.registry.
const registryUsage = "registry start [-auth USER:PASS] | registry push [-random SIZE] REPO:TAG"

func cmdRegistry(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! registry")
	}
	if len(args) == 0 {
		ts.Fatalf("usage: %s", registryUsage)
	}
	switch args[0] {
	case "start":
		registryStart(ts, args[1:])
	case "push":
		registryPush(ts, args[1:])
	default:
		ts.Fatalf("usage: %s", registryUsage)
	}
}

func registryStart(ts *testscript.TestScript, args []string) {
	fs := flag.NewFlagSet("registry start", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	auth := fs.String("auth", "", "USER:PASS")
	if err := fs.Parse(args); err != nil || fs.NArg() != 0 {
		ts.Fatalf("usage: %s (%v)", registryUsage, err)
	}
	if ts.Getenv("REGISTRY") != "" {
		ts.Fatalf("registry start: a registry already runs at $REGISTRY=%s", ts.Getenv("REGISTRY"))
	}
	var opts []testregistry.Option
	user, pass, _ := strings.Cut(*auth, ":")
	if *auth != "" {
		opts = append(opts, testregistry.WithAuth(user, pass))
	}
	r, err := testregistry.Start(context.Background(), ts.MkAbs(".registry"), opts...)
	if errors.Is(err, testregistry.ErrNoRegistry) || errors.Is(err, testregistry.ErrNoHtpasswd) {
		ts.Fatalf("%v; begin the script with [!registry] skip", err)
	}
	ts.Check(err)
	ts.Defer(func() {
		if err := r.Stop(); err != nil {
			ts.Logf("stop the registry: %v", err)
		}
	})
	ts.Setenv("REGISTRY", r.Host())
	if *auth != "" {
		ts.Setenv("REGISTRY_USER", user)
		ts.Setenv("REGISTRY_PASSWORD", pass)
	}
}

// randomFileSize is the size of the files of registry push -random's
// layer: a few large files, as in a layer of data.
const randomFileSize = 16 << 20

func registryPush(ts *testscript.TestScript, args []string) {
	fs := flag.NewFlagSet("registry push", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	random := fs.String("random", "", "SIZE of a layer of random data")
	if err := fs.Parse(args); err != nil || fs.NArg() != 1 {
		ts.Fatalf("usage: %s (%v)", registryUsage, err)
	}
	host := ts.Getenv("REGISTRY")
	if host == "" {
		ts.Fatalf("registry push: no registry: run registry start first")
	}
	var img v1.Image
	var err error
	if *random == "" {
		img, err = imagetest.NewBusybox()
	} else {
		size, perr := parseSize(*random)
		if perr != nil {
			ts.Fatalf("registry push -random: %v", perr)
		}
		spec := testregistry.LayerSpec{Dir: "data", Files: int((size + randomFileSize - 1) / randomFileSize), FileSize: randomFileSize, Seed: uint64(size)}
		if size < randomFileSize {
			spec.Files, spec.FileSize = 1, size
		}
		dir := ts.MkAbs(".registry-layers")
		img, err = testregistry.RandomImage(dir, spec)
		// The registry keeps its own copy.
		defer os.RemoveAll(dir)
	}
	if errors.Is(err, imagetest.ErrNoBusybox) {
		ts.Fatalf("%v; begin the script with [!busybox] skip", err)
	}
	ts.Check(err)
	ts.Check(pushTo(ts, host, fs.Arg(0), img))
}

// pushTo pushes img with the credentials registry start set.
func pushTo(ts *testscript.TestScript, host, repoTag string, img v1.Image) error {
	auth := authn.Anonymous
	if u := ts.Getenv("REGISTRY_USER"); u != "" {
		auth = &authn.Basic{Username: u, Password: ts.Getenv("REGISTRY_PASSWORD")}
	}
	return testregistry.Push(context.Background(), host+"/"+repoTag, img, auth)
}

// parseSize reads "256MiB", "64KiB", "1GiB" or a number of bytes.
func parseSize(s string) (int64, error) {
	units := []struct {
		suffix string
		mult   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"B", 1}}
	mult := int64(1)
	for _, u := range units {
		if n, ok := strings.CutSuffix(s, u.suffix); ok {
			s, mult = n, u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("size %q: want a positive number of bytes, KiB, MiB or GiB", s)
	}
	return n * mult, nil
}

// registryCondition answers [registry]: Debian's docker-registry and
// apache2-utils' htpasswd (for registry start -auth) are installed. With
// NOOK_TEST_STRICT=1 their absence fails the script instead of letting
// [!registry] skip it.
func registryCondition() (bool, error) {
	if err := testregistry.Installed(testregistry.WithAuth("probe", "probe")); err != nil {
		if nstest.Strict() {
			return false, fmt.Errorf("NOOK_TEST_STRICT=1 forbids skipping: %w", err)
		}
		return false, nil
	}
	return true, nil
}

// cmdWaitFile waits until FILE's content matches REGEX, polling: a file
// announces nothing.
func cmdWaitFile(ts *testscript.TestScript, neg bool, args []string) {
	const usage = "waitfile FILE REGEX"
	if neg || len(args) != 2 {
		ts.Fatalf("usage: %s", usage)
	}
	path := ts.MkAbs(args[0])
	re, err := regexp.Compile(args[1])
	if err != nil {
		ts.Fatalf("%s: %v", usage, err)
	}
	deadline := time.Now().Add(waitLimit)
	for {
		b, err := os.ReadFile(path)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			ts.Fatalf("waitfile: %v", err)
		}
		if re.Match(b) {
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("%s did not match %q within %v; it holds:\n%s", filepath.Base(path), re, waitLimit, b)
		}
		time.Sleep(pollInterval)
	}
}

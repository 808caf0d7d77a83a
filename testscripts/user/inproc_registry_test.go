package usertest

import (
	"flag"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/rogpeppe/go-internal/testscript"

	"github.com/nookrun/nook/image/imagetest"
)

// registries are the in-process registries of the running scripts, by
// the script's $WORK and the variable holding the registry's address.
var registries = struct {
	sync.Mutex
	m map[string]*imagetest.Registry
}{m: map[string]*imagetest.Registry{}}

// stallTimeout bounds how long "inreg stalled" waits: a pull that
// never starts a download fails the script instead of hanging it.
const stallTimeout = 2 * time.Minute

// cmdInReg drives go-containerregistry's in-process registry
// (image/imagetest's Registry, on 127.0.0.1 over plain HTTP), for the
// pull, push and login scripts (registry, in registry_cmd_test.go, runs
// Debian's docker-registry instead):
//
//	inreg start [-basic USER:PASS | -token USER:PASS] [-tls] [VAR]
//	    start a registry, stopped when the script ends, and set $VAR
//	    (default REGISTRY) to its address 127.0.0.1:PORT; -basic demands
//	    HTTP Basic auth, -token the bearer token dance; -tls serves HTTPS
//	    with a certificate nobody trusts
//	inreg push [-var VAR] [-layers N] [-size BYTES] [-zstd] [-arch A,B] [-corrupt] REPO:TAG
//	    push a test image: busybox plus N layers of BYTES each
//	    (imagetest.Layered), or with -arch an index of one busybox image
//	    per architecture (labelled arch=A); -corrupt makes the registry
//	    serve its extra layers (not busybox's, which other images share)
//	    with a byte flipped
//	inreg stall [-var VAR]
//	    the next blob download sends half the blob, then waits
//	inreg stalled [-var VAR]
//	    wait until that download has sent its half
//	inreg release [-var VAR]
//	    let a stalled download finish
//	inreg gets [-var VAR] REPO:TAG
//	    print how many times each layer of the image was downloaded,
//	    one line "DIGEST N" per layer
func cmdInReg(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! inreg")
	}
	if len(args) == 0 {
		ts.Fatalf("usage: inreg start|push|stall|stalled|release|gets ...")
	}
	fs := flag.NewFlagSet("inreg "+args[0], flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	varName := fs.String("var", "REGISTRY", "the variable holding the registry's address")
	switch args[0] {
	case "start":
		basic := fs.String("basic", "", "USER:PASS for Basic auth")
		token := fs.String("token", "", "USER:PASS for token auth")
		tls := fs.Bool("tls", false, "HTTPS with an untrusted certificate")
		if err := fs.Parse(args[1:]); err != nil || fs.NArg() > 1 {
			ts.Fatalf("usage: inreg start [-basic USER:PASS | -token USER:PASS] [-tls] [VAR] (%v)", err)
		}
		v := "REGISTRY"
		if fs.NArg() == 1 {
			v = fs.Arg(0)
		}
		var opts []imagetest.RegistryOption
		if u, p, ok := strings.Cut(*basic, ":"); ok {
			opts = append(opts, imagetest.WithBasicAuth(u, p))
		}
		if u, p, ok := strings.Cut(*token, ":"); ok {
			opts = append(opts, imagetest.WithTokenAuth(u, p))
		}
		if *tls {
			opts = append(opts, imagetest.WithTLS())
		}
		reg, err := imagetest.NewRegistry(opts...)
		ts.Check(err)
		key := ts.Getenv("WORK") + "\x00" + v
		registries.Lock()
		registries.m[key] = reg
		registries.Unlock()
		ts.Defer(func() {
			reg.Close()
			registries.Lock()
			delete(registries.m, key)
			registries.Unlock()
		})
		ts.Setenv(v, reg.Host)
	case "push":
		layers := fs.Int("layers", 0, "extra layers")
		size := fs.Int64("size", 64<<10, "bytes per extra layer")
		zstd := fs.Bool("zstd", false, "zstd layers")
		arch := fs.String("arch", "", "an index of these architectures")
		corrupt := fs.Bool("corrupt", false, "serve the layers damaged")
		if err := fs.Parse(args[1:]); err != nil || fs.NArg() != 1 {
			ts.Fatalf("usage: inreg push [-var VAR] [-layers N] [-size BYTES] [-zstd] [-arch A,B] [-corrupt] REPO:TAG (%v)", err)
		}
		reg := lookupRegistry(ts, *varName)
		ref := fs.Arg(0)
		if *arch != "" {
			idx, err := imagetest.NewIndex(strings.Split(*arch, ",")...)
			checkBusybox(ts, err)
			ts.Check(reg.PushIndex(ref, idx))
			return
		}
		var opts []imagetest.Option
		if *zstd {
			opts = append(opts, imagetest.WithZstd())
		}
		img, err := imagetest.NewLayered(*layers, *size, opts...)
		checkBusybox(ts, err)
		ts.Check(reg.Push(ref, img))
		if *corrupt {
			ls, err := img.Layers()
			ts.Check(err)
			for _, l := range ls[1:] {
				d, err := l.Digest()
				ts.Check(err)
				reg.Corrupt(d.String())
			}
		}
	case "stall", "stalled", "release":
		if err := fs.Parse(args[1:]); err != nil || fs.NArg() != 0 {
			ts.Fatalf("usage: inreg %s [-var VAR] (%v)", args[0], err)
		}
		reg := lookupRegistry(ts, *varName)
		switch args[0] {
		case "stall":
			ch := reg.Stall()
			registries.Lock()
			stalls[reg] = ch
			registries.Unlock()
		case "stalled":
			registries.Lock()
			ch := stalls[reg]
			registries.Unlock()
			if ch == nil {
				ts.Fatalf("inreg stalled: no inreg stall first")
			}
			select {
			case <-ch:
			case <-time.After(stallTimeout):
				ts.Fatalf("inreg stalled: no download started within %v", stallTimeout)
			}
		case "release":
			reg.Release()
		}
	case "gets":
		if err := fs.Parse(args[1:]); err != nil || fs.NArg() != 1 {
			ts.Fatalf("usage: inreg gets [-var VAR] REPO:TAG (%v)", err)
		}
		reg := lookupRegistry(ts, *varName)
		ref, err := name.ParseReference(reg.Host + "/" + fs.Arg(0))
		ts.Check(err)
		img, err := remote.Image(ref, remote.WithAuthFromKeychain(reg.Keychain()))
		ts.Check(err)
		ls, err := img.Layers()
		ts.Check(err)
		for _, l := range ls {
			d, err := l.Digest()
			ts.Check(err)
			fmt.Fprintf(ts.Stdout(), "%s %d\n", d, reg.BlobGets(d.String()))
		}
	default:
		ts.Fatalf("inreg: unknown subcommand %q: want start, push, stall, stalled, release or gets", args[0])
	}
}

// stalls are the armed stalls, by registry.
var stalls = map[*imagetest.Registry]<-chan struct{}{}

func lookupRegistry(ts *testscript.TestScript, v string) *imagetest.Registry {
	registries.Lock()
	defer registries.Unlock()
	reg := registries.m[ts.Getenv("WORK")+"\x00"+v]
	if reg == nil {
		ts.Fatalf("no registry in $%s: run 'inreg start' first", v)
	}
	return reg
}

func checkBusybox(ts *testscript.TestScript, err error) {
	if err != nil && strings.Contains(err.Error(), imagetest.ErrNoBusybox.Error()) {
		ts.Fatalf("%v; begin the script with [!busybox] skip", err)
	}
	ts.Check(err)
}

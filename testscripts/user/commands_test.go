package usertest

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/rogpeppe/go-internal/testscript"

	"github.com/nookrun/nook/image/imagetest"
)

// scriptCommands are the scripts' own commands:
//
//	mkimage [-format docker-archive|oci-archive|oci-dir] [-owners]
//	        [-cmd JSON] [-entrypoint JSON] [-user U] [-workdir D]
//	        [-env K=V]... [-label K=V]... [-port P/PROTO]... [-stopsignal S]
//	        REF[,REF...] OUTPUT
//	    write a test image (image/imagetest's Busybox, or ManyOwners with
//	    -owners) named REF (several names separated by commas; "-" for
//	    none) to OUTPUT in the given format (docker-archive by default)
//	leftovers [-only procs,mounts,runtime,store] [DIR...]
//	    fail if anything of a container is left: a process of this
//	    script, a mount under $WORK, an entry in $XDG_RUNTIME_DIR/nook, a
//	    container in $STORE, anything in a DIR; ! leftovers fails if
//	    nothing is (see leftovers_test.go)
//	waitproc REGEX
//	    wait until a process of this script runs a command line (argv[0]'s
//	    base name, then the arguments) that matches REGEX
//	waitgone REGEX
//	    wait until no process of this script does
//	signal SIG REGEX
//	    send SIG (TERM, KILL, ...) to this script's processes whose
//	    command line matches REGEX
//	inreg start|push|stall|stalled|release|gets ...
//	    go-containerregistry's in-process registry on 127.0.0.1 in
//	    $REGISTRY, and test images pushed into it (inproc_registry_test.go)
//	cgroupfile NAME FILE
//	    print FILE of container NAME's cgroup (its record names it)
//	cgroupsleft
//	    fail if a container cgroup (nook-*) is left in the delegated
//	    subtree; ! cgroupsleft fails if none is (cgroup_test.go)
//	registry start|push ..., waitfile FILE REGEX
//	    Debian's docker-registry on loopback in $REGISTRY, test images
//	    pushed into it, and a wait for a background command's output in a
//	    file (registry_cmd_test.go)
//
//	httpget URL, udpecho HOST:PORT MSG, hostserve BODY,
//	freeport [-n N] VAR, hostaddr VAR, stdoutvar VAR REGEX
//	    an HTTP GET and a UDP echo from the host (retried until the
//	    server answers), an HTTP server on the host's loopback in
//	    $HOSTPORT, free ports, a non-loopback host address, and a value
//	    from the last stdout (net_cmd_test.go)
//
// and the programs exits (exits_test.go), which checks an exact exit
// status, udpechod and dnsd (netprogs_test.go), a UDP echo server and a
// DNS server:
//
//	exec exits N PROG [ARG...]
func scriptCommands() map[string]func(ts *testscript.TestScript, neg bool, args []string) {
	return map[string]func(ts *testscript.TestScript, neg bool, args []string){
		"mkimage":     cmdMkimage,
		"leftovers":   cmdLeftovers,
		"waitproc":    cmdWaitProc,
		"waitgone":    cmdWaitGone,
		"signal":      cmdSignal,
		"inreg":       cmdInReg,
		"registry":    cmdRegistry,
		"waitfile":    cmdWaitFile,
		"cgroupfile":  cmdCgroupFile,
		"cgroupsleft": cmdCgroupsLeft,
		"httpget":     cmdHTTPGet,
		"udpecho":     cmdUDPEcho,
		"hostserve":   cmdHostServe,
		"freeport":    cmdFreePort,
		"hostaddr":    cmdHostAddr,
		"stdoutvar":   cmdStdoutVar,
		"waitfd":      cmdWaitFD, // life_cmd_test.go
	}
}

// listFlag collects a repeated flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }

// jsonArgs is a flag holding a JSON array of strings.
type jsonArgs struct {
	set  bool
	args []string
}

func (j *jsonArgs) String() string { return strings.Join(j.args, " ") }
func (j *jsonArgs) Set(s string) error {
	j.set = true
	return json.Unmarshal([]byte(s), &j.args)
}

func cmdMkimage(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! mkimage")
	}
	fs := flag.NewFlagSet("mkimage", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	format := fs.String("format", "docker-archive", "docker-archive, oci-archive or oci-dir")
	owners := fs.Bool("owners", false, "the ManyOwners image")
	var cmd, entrypoint jsonArgs
	fs.Var(&cmd, "cmd", "Cmd as a JSON array")
	fs.Var(&entrypoint, "entrypoint", "Entrypoint as a JSON array")
	user := fs.String("user", "", "User")
	workdir := fs.String("workdir", "", "WorkingDir")
	stop := fs.String("stopsignal", "", "StopSignal")
	var env, labels, ports listFlag
	fs.Var(&env, "env", "an Env entry K=V (repeatable)")
	fs.Var(&labels, "label", "a label K=V (repeatable)")
	fs.Var(&ports, "port", "an exposed port P/PROTO (repeatable)")
	if err := fs.Parse(args); err != nil || fs.NArg() != 2 {
		ts.Fatalf("usage: mkimage [-format docker-archive|oci-archive|oci-dir] [-owners] [-cmd JSON] [-entrypoint JSON] [-user U] [-workdir D] [-env K=V]... REF[,REF...] OUTPUT (%v)", err)
	}
	var opts []imagetest.Option
	if cmd.set {
		opts = append(opts, imagetest.WithCmd(cmd.args...))
	}
	if entrypoint.set {
		opts = append(opts, imagetest.WithEntrypoint(entrypoint.args...))
	}
	if *user != "" {
		opts = append(opts, imagetest.WithUser(*user))
	}
	if *workdir != "" {
		opts = append(opts, imagetest.WithWorkdir(*workdir))
	}
	if *stop != "" {
		opts = append(opts, imagetest.WithStopSignal(*stop))
	}
	if len(env) > 0 {
		opts = append(opts, imagetest.WithEnv(env...))
	}
	for _, l := range labels {
		k, v, _ := strings.Cut(l, "=")
		opts = append(opts, imagetest.WithLabel(k, v))
	}
	if len(ports) > 0 {
		opts = append(opts, imagetest.WithExposedPorts(ports...))
	}
	build := imagetest.NewBusybox
	if *owners {
		build = imagetest.NewManyOwners
	}
	img, err := build(opts...)
	if errors.Is(err, imagetest.ErrNoBusybox) {
		ts.Fatalf("%v; begin the script with [!busybox] skip", err)
	}
	ts.Check(err)
	var refs []string
	if r := fs.Arg(0); r != "-" {
		refs = strings.Split(r, ",")
	} else {
		refs = []string{""}
	}
	ts.Check(writeImage(img, *format, refs, ts.MkAbs(fs.Arg(1))))
}

func writeImage(img v1.Image, format string, refs []string, out string) error {
	switch format {
	case "docker-archive":
		return imagetest.WriteDockerArchive(img, refs[0], out, refs[1:]...)
	case "oci-archive":
		return imagetest.WriteOCIArchive(img, refs[0], out, refs[1:]...)
	case "oci-dir":
		return imagetest.WriteOCILayout(img, refs[0], out, refs[1:]...)
	}
	return fmt.Errorf("mkimage: unknown format %q: want docker-archive, oci-archive or oci-dir", format)
}

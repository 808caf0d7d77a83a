// Package buildinfo tells which version of nook a binary is, for the
// version output of both commands.
package buildinfo

import (
	"runtime/debug"
	"strings"
)

// version is set by the linker (make build passes
// -ldflags "-X github.com/nookrun/nook/internal/cli/buildinfo.version=...").
// Nothing writes it at run time.
var version string

// Version returns the linker-set version, else the module version of a
// `go install module@version` build, else "devel" with the VCS revision
// when the toolchain recorded one.
func Version() string {
	if version != "" {
		return version
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	return fromBuildInfo(bi)
}

func fromBuildInfo(bi *debug.BuildInfo) string {
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "-dirty"
			}
		}
	}
	if rev == "" {
		return "devel"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	return "devel-" + rev + dirty
}

// GoVersion is the toolchain the binary was built with.
func GoVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	return strings.TrimPrefix(bi.GoVersion, "go")
}

package fuseunion

import "strings"

// The union's upper directory records deletions the OCI way, as empty files
// named ".wh.NAME", and opaque directories with a ".wh..wh..opq" file, so an
// upper dir is an OCI layer diff as it stands and needs no privilege to write.
// Directory lowers (and uppers written by others) may also use overlayfs's
// forms: a 0:0 character device, and the trusted./user.overlay.opaque xattrs.
const (
	whiteoutPrefix = ".wh."
	opaqueMarker   = ".wh..wh..opq"
	maxNameLen     = 255
)

// overlay xattrs that mark a directory opaque in kernel overlayfs layers.
var opaqueXattrs = [...]string{"trusted.overlay.opaque", "user.overlay.opaque"}

// isWhiteoutName reports whether name is an OCI whiteout or marker file.
// Such names are never visible in the union and cannot be created in it.
func isWhiteoutName(name string) bool {
	return strings.HasPrefix(name, whiteoutPrefix)
}

// whiteoutTarget returns the name hidden by the whiteout file name, and
// false for names that are not whiteouts (including the opaque marker).
func whiteoutTarget(name string) (string, bool) {
	if !isWhiteoutName(name) || name == opaqueMarker {
		return "", false
	}
	t := name[len(whiteoutPrefix):]
	if t == "" || t == "." || t == ".." {
		return "", false
	}
	return t, true
}

// whiteoutName returns the OCI whiteout file name for name.
func whiteoutName(name string) string { return whiteoutPrefix + name }

// isWhiteoutDev reports whether a character device number is overlayfs's
// whiteout (0:0).
func isWhiteoutDev(rdev uint64) bool { return rdev == 0 }

// isOpaqueValue reports whether an overlay.opaque xattr value marks a
// directory opaque ("y"; "x" means "has xwhiteouts", not opaque).
func isOpaqueValue(v []byte) bool { return len(v) == 1 && v[0] == 'y' }

// validName checks a name the union is asked to create.
func validName(name string) error {
	if len(name) > maxNameLen {
		return errNameTooLong
	}
	if isWhiteoutName(name) {
		return errReservedName
	}
	return nil
}

package imagetest

import (
	"archive/tar"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Paths in the ManyOwners image.
const (
	// OwnersRootFile is a 0644 root:root file.
	OwnersRootFile = "/owners/root-file"
	// OwnersUserFile is a 0640 file owned by 1000:1000.
	OwnersUserFile = "/owners/user-file"
	// OwnersUserDir is a 0750 directory owned by 1000:1000.
	OwnersUserDir = "/owners/user-dir"
	// OwnersSetuid is a 04755 root-owned copy of busybox.
	OwnersSetuid = "/owners/setuid-busybox"
	// OwnersDevice is a character device 1:3 (the null device), 0666.
	OwnersDevice = "/owners/null"
	// OwnersWhitedOut is a file of the first layer that the second layer
	// whites out: it must not exist in the image's root filesystem.
	OwnersWhitedOut = "/etc/whited-out"
)

// ManyOwners is NewManyOwners for a test, skipping or failing as Busybox
// does.
func ManyOwners(t testing.TB, opts ...Option) v1.Image {
	t.Helper()
	img, err := NewManyOwners(opts...)
	check(t, err)
	return img
}

// NewManyOwners builds Busybox (with OwnersWhitedOut added to its layer)
// plus a second layer holding OwnersRootFile, OwnersUserFile and
// OwnersUserDir, OwnersSetuid, OwnersDevice and a whiteout of
// OwnersWhitedOut: an image a user namespace with a single id cannot show
// faithfully.
func NewManyOwners(opts ...Option) (v1.Image, error) {
	o, err := applyOptions(opts)
	if err != nil {
		return nil, err
	}
	o.files = append(o.files, File{Path: OwnersWhitedOut, Mode: 0o644, Content: "whited out by the second layer\n"})
	base, err := busyboxLayer(o)
	if err != nil {
		return nil, err
	}
	bin, _, err := hostBusybox()
	if err != nil {
		return nil, err
	}
	b := newTarBuilder(o.created)
	b.dir("owners", 0o755, 0, 0)
	b.file(OwnersRootFile, 0o644, 0, 0, []byte("owned by root\n"))
	b.file(OwnersUserFile, 0o640, 1000, 1000, []byte("owned by 1000\n"))
	b.dir(OwnersUserDir, 0o750, 1000, 1000)
	b.file(OwnersSetuid, 0o4755, 0, 0, bin)
	b.add(tar.Header{Name: OwnersDevice, Typeflag: tar.TypeChar, Mode: 0o666, Devmajor: 1, Devminor: 3}, nil)
	b.file("/etc/.wh.whited-out", 0o644, 0, 0, nil)
	second, err := b.bytes()
	if err != nil {
		return nil, err
	}
	return assemble(o, base, second)
}

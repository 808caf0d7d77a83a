// Package imagetest builds small, real OCI images in-process for tests:
// Busybox (one layer made from the host's static busybox, with applet
// links, users and the usual directories) and ManyOwners (Busybox plus a
// layer of files owned by several ids, a setuid binary, a device node and a
// whiteout). Writers put an image on disk in each format nook loads: a
// docker-archive tar, an OCI archive tar and an OCI layout directory.
//
// The images are deterministic: the same options give the same layer
// bytes and the same image ID, so a test can build an image twice and
// expect the store to treat it as one.
//
// NewBusybox and NewManyOwners return ErrNoBusybox when the host has no
// static busybox (Debian's busybox-static); Busybox and ManyOwners skip the
// test then, or fail it when NOOK_TEST_STRICT=1.
package imagetest

// Package difftest holds the differential tests of fuseunion: the same
// operation sequences run on kernel overlayfs (the reference, mounted in a
// user namespace with -o userxattr over directory layers) and on fuseunion
// over the same layers as directories and as indexed tars, and the visible
// trees and errnos must match. It also runs go-fuse's posixtest suite against
// fuseunion.
//
// Everything lives in the test files; this file exists so the package has a
// doc comment and builds as an ordinary (empty) package.
//
// The pieces, one file each:
//
//	spec_test.go      the line format shared by fixtures, op lists and regression files
//	fixture_test.go   layer fixtures: a spec, generated from a seed or written by hand
//	layerdir_test.go  writes a layer spec as a directory (overlayfs whiteout forms)
//	ocitar_test.go    converts a directory layer into an OCI tar and indexes it
//	mount_test.go     the candidates: kernel overlayfs, nook (dir and tar lowers), fuse-overlayfs
//	ops_test.go       the op vocabulary and how each op is applied to a mount
//	gen_test.go       random op generation from the reference's current tree
//	snapshot_test.go  tree snapshots and their comparison
//	known_test.go     the deliberate differences from kernel overlayfs, encoded
//	runner_test.go    lock-step execution on the reference and the candidates
//	minimise_test.go  shrinking a failing op list
package difftest

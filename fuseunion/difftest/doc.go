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
//	tarindex_test.go  indexes a layer tar with package layer
//	runner_test.go    lock-step execution on the reference and the candidates
//	minimise_test.go  shrinking a failing case (ops by ddmin, then fixture entries)
//	random_test.go    TestDifferentialRandom: seeds × ops, failures printed as regression cases
//	regress_test.go   TestRegressions: testdata/regressions/*.txt replayed
//	table_test.go     TestDifferentialTable: hand-written cases over one three-layer fixture
//	nook_test.go      nook's side of the deliberate differences, asserted directly
//	posix_test.go     TestPosix: go-fuse's posixtest.All against fuseunion
//	harness_test.go   the harness's pure parts (format, generator, comparison), no mounts
//
// Run as the unprivileged user (the tests enter a user namespace
// themselves):
//
//	go test ./fuseunion/difftest/
//	go test ./fuseunion/difftest/ -run Random -args -difftest.seeds=200 -difftest.ops=2000
//	go test ./fuseunion/difftest/ -args -difftest.candidates=fuse-overlayfs   # cross-check the harness
//
// fuse-overlayfs (-difftest.candidates=fuse-overlayfs) is a cross-check of
// the harness, not a second reference: version 1.10 differs from the kernel
// in ways the harness reports (copy-up sets the parents' mtimes and drops a
// copied-up directory's setgid bit, write keeps setuid, lutimes on a
// symlink fails with EIO, renaming a lower fifo turns it into a regular
// file), so that run fails.
//
// A failing random seed prints its minimised case in the regression file
// format; save it as testdata/regressions/NAME.txt with a comment saying
// what it shows.
package difftest

package ctrcopy

import "errors"

// Sentinels, checked with errors.Is. The errors Pack and Unpack return wrap
// them with the path and, where there is one, the fix.
var (
	// ErrNotDir: a path that must be a directory (DST or SRC ending in
	// "/" or "/.") is something else.
	ErrNotDir = errors.New("not a directory")
	// ErrDirNotExist: DST ends in "/" and does not exist; Docker creates no
	// directory for a file.
	ErrDirNotExist = errors.New("destination directory does not exist")
	// ErrNoParent: the directory DST would be created in does not exist.
	ErrNoParent = errors.New("no such directory")
	// ErrCannotCopyDir: a directory cannot replace an existing file.
	ErrCannotCopyDir = errors.New("cannot copy a directory onto a file")
	// ErrReplace: an archive entry would replace a directory with a
	// non-directory, or a non-directory (a symlink too) with a directory.
	ErrReplace = errors.New("cannot replace an existing entry of another type")
	// ErrUnsafeEntry: an archive entry names a path outside the destination
	// or reaches it through a symlink.
	ErrUnsafeEntry = errors.New("unsafe archive entry")
	// ErrBadArchive: the stream is not a well-formed tar, is truncated, or
	// does not match the Info it came with.
	ErrBadArchive = errors.New("broken archive")
	// ErrOptions: contradictory options.
	ErrOptions = errors.New("invalid copy options")
)

// Package runtimedir finds, makes and removes nook's per-user runtime
// directory: where each container's pid, state, sockets and lock live while
// it runs (DESIGN.md, "Storage").
//
// The directory is $XDG_RUNTIME_DIR/nook when the session manager gave the
// user a private runtime directory. Many ways of starting nook give none, or
// give someone else's: `su` keeps the caller's XDG_RUNTIME_DIR (root's
// /run/user/0), `sudo -u`, cron, batch schedulers and ssh without a logind
// session leave it unset. So a candidate is used only when it is a real
// directory owned by the user that no one else can write, and the search goes
//
//	$XDG_RUNTIME_DIR/nook    the session's runtime directory
//	/run/user/UID/nook       the same directory when the variable was lost
//	                         (su, sudo -u, cron while the user is logged in),
//	                         as Podman does, so that `nook ps` from cron and
//	                         from a login shell see the same containers
//	/tmp/nook-UID            the private fallback
//
// The fallback lives in a directory every user can write, so another user
// can create /tmp/nook-UID first, as a symlink or a directory of theirs, to
// read or replace a container's sockets. It is therefore made with mkdir
// (which never follows a symlink), and when it already exists it is opened
// with O_NOFOLLOW and accepted only when fstat shows a directory owned by the
// user with mode 0700; anything else is refused with an error that says what
// is wrong and how to fix it, never repaired or worked around.
//
// Cleanup removes the fallback when the last container of a command has
// ended and it is empty; the session's runtime directory is left to the
// session manager. Sub makes a container's directory inside the runtime
// directory and copes with a concurrent Cleanup of the empty fallback.
package runtimedir

package difftest

import (
	"fmt"
	"sort"
	"strings"

	"golang.org/x/sys/unix"
)

// mismatch is one observed difference between the reference and a candidate.
type mismatch struct {
	cand string
	key  string // stable description of the kind of difference, for minimisation
	at   int    // number of ops applied when it was seen
	msg  string
}

func (m *mismatch) Error() string {
	return fmt.Sprintf("%s differs from kernel overlayfs after op %d: %s", m.cand, m.at, m.msg)
}

// runner applies ops in lock step to the reference and the candidates.
type runner struct {
	ref    *mount
	cands  []*mount
	taints map[string]*taint
	ops    []op
	// created holds the reference identities of files the ops made (as
	// opposed to files that came from a lower layer).
	created map[ident]bool
	// outcomes counts the reference's results by errno, to show how much
	// of a run did something rather than fail early.
	outcomes map[string]int
}

func newRunner(ref *mount, cands []*mount) *runner {
	r := &runner{ref: ref, cands: cands, taints: map[string]*taint{}, created: map[ident]bool{}, outcomes: map[string]int{}}
	for _, c := range cands {
		r.taints[c.name] = newTaint()
	}
	return r
}

// step applies o everywhere and compares what each candidate's op returned.
// A non-nil error is a failure of the harness (or of the reference), not a
// difference.
func (r *runner) step(o op) (*mismatch, error) {
	r.ops = append(r.ops, o)
	n := len(r.ops)
	_, existed := identsAt(r.ref.root, []string{o.P})[o.P]
	group, err := groupsTouched(r.ref, o, nil, r.created)
	if err != nil {
		return nil, err
	}
	times := parentTimes(r.ref.root, o)
	mtime, sameSize := sameSizeTruncate(r.ref.root, o)
	want := apply(r.ref.root, o)
	if sameSize && want.Errno == 0 {
		ts := []unix.Timespec{{Nsec: unix.UTIME_OMIT}, mtime}
		if err := unix.UtimesNano(join(r.ref.root, o.P), ts); err != nil {
			return nil, fmt.Errorf("restore mtime after a same-size truncate: %w", err)
		}
	}
	if o.Kind == "rename" && want.Errno != 0 && want.Errno != unix.EXDEV {
		if err := restoreTimes(r.ref.root, times); err != nil {
			return nil, err
		}
	}
	if exdevRename(r.ref.root, o, want) {
		moved := []string{o.P}
		if o.Flags == "exchange" {
			moved = append(moved, o.Q)
		}
		more, err := groupsTouched(r.ref, op{Kind: "stat"}, moved, r.created)
		if err != nil {
			return nil, err
		}
		group = append(group, more...)
		preRef := identsAt(r.ref.root, group)
		if want, err = emulateRename(r.ref.root, o); err != nil {
			return nil, err
		}
		r.taintRef(preRef)
		// The emulation made new files, if it did anything.
		for _, p := range moved {
			if want.Errno != 0 {
				break
			}
			all, err := identWalk(join(r.ref.root, renamed(o, p)))
			if err != nil {
				return nil, err
			}
			for _, id := range all {
				r.created[id] = true
			}
		}
	}
	switch o.Kind {
	case "create", "mkfifo", "symlink", "mknod":
		if id, ok := identsAt(r.ref.root, []string{o.P})[o.P]; ok && want.Errno == 0 && !existed {
			r.created[id] = true
		}
	}
	outcome := "ok"
	if want.Errno != 0 {
		outcome = unix.ErrnoName(want.Errno)
	}
	r.outcomes[outcome]++
	after := make([]string, 0, len(group)+1)
	for _, p := range group {
		after = append(after, renamed(o, p))
	}
	if len(group) > 0 && o.Kind == "link" {
		after = append(after, o.Q)
	}
	r.taintRef(identsAt(r.ref.root, after))

	var first *mismatch
	for _, c := range r.cands {
		tnt := r.taints[c.name]
		for _, id := range identsAt(c.root, group) {
			tnt.cand[id] = true
		}
		var before map[string]ident
		if isNook(c.name) {
			before = identsAt(c.root, []string{o.P, o.Q})
		}
		tainted := r.taintedPath(c, tnt, o.P)
		got := apply(c.root, o)
		if c.name == candFuseOverlayfs && exdevRename(c.root, o, got) {
			// fuse-overlayfs, like the kernel, refuses to rename lower
			// directories; as a cross-check it gets the same mv.
			var err error
			if got, err = emulateRename(c.root, o); err != nil {
				return nil, fmt.Errorf("%s: %w", c.name, err)
			}
		}
		for _, id := range identsAt(c.root, after) {
			tnt.cand[id] = true
		}
		// What a split hardlink group shows, and so what ops that depend
		// on its attributes return, differs by design (known difference
		// 2); for plain observations the errno must still match.
		switch {
		case tainted && dependsOnAttrs(o):
			got = want
		case tainted && observes(o) && got.Errno == want.Errno:
			got = want
		}
		if got != want && first == nil {
			first = &mismatch{cand: c.name, key: o.Kind + " result", at: n,
				msg: fmt.Sprintf("%s returned %s, kernel overlayfs %s", o, got, want)}
		}
		if before != nil && got.Errno == 0 && first == nil {
			if msg := inodeStable(c.root, o, before); msg != "" {
				first = &mismatch{cand: c.name, key: o.Kind + " inode", at: n, msg: msg}
			}
		}
	}
	return first, nil
}

// taintedPath reports whether the inode at p is tainted.
func (r *runner) taintedPath(c *mount, tnt *taint, p string) bool {
	for _, id := range identsAt(r.ref.root, []string{p}) {
		if tnt.ref[id] {
			return true
		}
	}
	for _, id := range identsAt(c.root, []string{p}) {
		if tnt.cand[id] {
			return true
		}
	}
	return false
}

// observes reports whether o only looks at its path.
func observes(o op) bool {
	switch o.Kind {
	case "read", "stat", "listxattr", "readlink":
		return true
	}
	return false
}

// dependsOnAttrs reports whether o's errno depends on the inode's
// attributes: its xattrs, or its mode and owner for a caller that is not
// root.
func dependsOnAttrs(o op) bool {
	return o.As != 0 || o.Kind == "getxattr" || o.Kind == "rmxattr" || o.Kind == "setxattr" && o.Flags != ""
}

func (r *runner) taintRef(ids map[string]ident) {
	for _, t := range r.taints {
		for _, id := range ids {
			t.ref[id] = true
		}
	}
}

// check compares the visible trees.
func (r *runner) check() (*mismatch, error) {
	want, err := takeSnapshot(r.ref.root)
	if err != nil {
		return nil, fmt.Errorf("reference: %w", err)
	}
	for _, c := range r.cands {
		got, err := takeSnapshot(c.root)
		if err != nil {
			return &mismatch{cand: c.name, key: "walk", at: len(r.ops), msg: err.Error()}, nil
		}
		diffs := compareSnapshots(want, got, r.taints[c.name])
		if isNook(c.name) {
			diffs = append(diffs, selfConsistent(got)...)
		}
		if len(diffs) > 0 {
			return &mismatch{cand: c.name, key: "tree " + diffKey(diffs[0]), at: len(r.ops),
				msg: "visible trees differ:\n\t" + strings.Join(diffs, "\n\t")}, nil
		}
	}
	return nil, nil
}

// diffKey is the kind of a snapshot difference: the word after the path.
func diffKey(d string) string {
	_, rest, _ := strings.Cut(d, ": ")
	k, _, _ := strings.Cut(rest, " ")
	return k
}

// inodeStable checks nook's promise that st_ino survives copy-up and
// rename (kernel overlayfs with index=off does not promise it for
// hardlinks, so this is checked on nook only).
func inodeStable(root string, o op, before map[string]ident) string {
	now := identsAt(root, []string{o.P, o.Q})
	check := func(oldPath, newPath string) string {
		b, ok := before[oldPath]
		if !ok {
			return ""
		}
		if a, ok := now[newPath]; ok && a != b {
			return fmt.Sprintf("%s: st_ino of %q changed from %d (was %q) to %d", o, newPath, b.Ino, oldPath, a.Ino)
		}
		return ""
	}
	switch o.Kind {
	case "rename":
		if o.P == o.Q {
			return ""
		}
		if msg := check(o.P, o.Q); msg != "" {
			return msg
		}
		if o.Flags == "exchange" {
			return check(o.Q, o.P)
		}
	case "link":
		if msg := check(o.P, o.P); msg != "" {
			return msg
		}
		return check(o.P, o.Q)
	case "unlink", "rmdir", "symlink", "mkdir", "mkfifo", "mknod":
	default:
		return check(o.P, o.P)
	}
	return ""
}

// replay mounts the reference and one candidate over l, applies ops and
// reports the first difference, comparing trees every checkEvery ops and
// at the end.
func replay(l *layers, b backing, cand string, ops []op, checkEvery int) (*mismatch, error) {
	ms, err := mountAll(l, b, []string{cand})
	if err != nil {
		return nil, err
	}
	defer unmountAll(ms)
	r := newRunner(ms[0], ms[1:])
	for i, o := range ops {
		if r.sameFile(o) {
			// Never generated (known difference 2); shrinking a case
			// must not make one either.
			continue
		}
		mm, err := r.step(o)
		if mm != nil || err != nil {
			return mm, err
		}
		if checkEvery > 0 && (i+1)%checkEvery == 0 {
			if mm, err := r.check(); mm != nil || err != nil {
				return mm, err
			}
		}
	}
	return r.check()
}

// mountAll mounts the reference and then each candidate.
func mountAll(l *layers, b backing, cands []string) ([]*mount, error) {
	var ms []*mount
	for _, name := range append([]string{candKernel}, cands...) {
		m, err := mountUnion(name, l, b)
		if err != nil {
			unmountAll(ms)
			return nil, err
		}
		ms = append(ms, m)
	}
	return ms, nil
}

func unmountAll(ms []*mount) error {
	var first error
	for i := len(ms) - 1; i >= 0; i-- {
		if err := ms[i].unmount(); err != nil && first == nil {
			first = fmt.Errorf("unmount %s: %w", ms[i].name, err)
		}
	}
	return first
}

// outcomeSummary is e.g. "ok 61%, ENOENT 20%, EEXIST 6%, ...".
func (r *runner) outcomeSummary() string {
	total := 0
	keys := make([]string, 0, len(r.outcomes))
	for k, n := range r.outcomes {
		total += n
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return r.outcomes[keys[i]] > r.outcomes[keys[j]] })
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d%%", k, 100*r.outcomes[k]/max(total, 1))
	}
	return strings.Join(parts, ", ")
}

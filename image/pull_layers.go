package image

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/sync/errgroup"
	"golang.org/x/sys/unix"

	"github.com/nookrun/nook/layer"
)

// fetchAndCommit downloads the layers of p the store lacks, a few at a
// time, then enters p in images.json. It holds the store throughout, so
// that no garbage collection takes a layer between its download and the
// commit.
func (s *Store) fetchAndCommit(ctx context.Context, c *repoClient, p *pending, o *remoteOptions) (Image, error) {
	release, err := s.Hold()
	if err != nil {
		return Image{}, err
	}
	for _, l := range p.layers {
		o.progress.Blob(BlobEvent{Digest: l.digest, Size: l.size, State: BlobWaiting})
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(o.jobs)
	for _, l := range p.layers {
		g.Go(func() error { return s.fetchLayer(gctx, c, l, o.progress) })
	}
	err = g.Wait()
	var imgs []Image
	if err == nil {
		o.progress.Status("Writing manifest to image destination")
		imgs, err = s.commit([]*pending{p})
	}
	release()
	if err != nil {
		// A cancelled pull keeps its complete layers for the next one.
		if ctx.Err() == nil {
			s.collectAfterFailure()
		}
		return Image{}, err
	}
	return imgs[0], nil
}

// fetchLayer makes the layer l from the registry unless the store has it.
// Only one nook fetches a layer at a time (a lock file per layer); the
// others wait and then find it present.
func (s *Store) fetchLayer(ctx context.Context, c *repoClient, l pendingLayer, prog Progress) error {
	ev := BlobEvent{Digest: l.digest, Size: l.size}
	if layer.Exists(s.layers(), l.diffID) {
		ev.State = BlobExists
		prog.Blob(ev)
		return nil
	}
	unlock, err := s.lockLayer(ctx, l.diffID)
	if err != nil {
		return err
	}
	defer unlock()
	if layer.Exists(s.layers(), l.diffID) {
		ev.State = BlobExists
		prog.Blob(ev)
		return nil
	}
	err = s.downloadLayer(ctx, c, l, prog)
	if err != nil {
		ev.State = BlobFailed
		prog.Blob(ev)
		return fmt.Errorf("layer %s: %w", l.digest, err)
	}
	ev.State, ev.Done = BlobDone, l.size
	prog.Blob(ev)
	return nil
}

func (s *Store) downloadLayer(ctx context.Context, c *repoClient, l pendingLayer, prog Progress) error {
	rc, err := c.blob(ctx, l.digest)
	if err != nil {
		return err
	}
	defer rc.Close()
	in := &blobReader{r: rc, ctx: ctx, want: l.size, prog: prog, ev: BlobEvent{Digest: l.digest, Size: l.size, State: BlobTransferring}}
	r := newVerifier(in, l.digest, l.digest)
	_, err = layer.Create(ctx, r, s.layers(), layer.WithDiffID(l.diffID))
	switch {
	case err == nil:
		return nil
	case errors.Is(err, layer.ErrDigestMismatch):
		return also(err, ErrDigestMismatch)
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT):
		return also(fmt.Errorf("write into %s: %w", s.layers(), err), ErrNoSpace)
	case errors.Is(err, ErrDigestMismatch), ctx.Err() != nil:
		return err
	}
	// A damaged blob usually fails decompression before its end, where
	// its digest is checked: read the rest to tell damage from a broken
	// layer tar.
	if _, derr := io.Copy(io.Discard, r); errors.Is(derr, ErrDigestMismatch) {
		return derr
	}
	return classify(err, c.repo.RegistryStr())
}

// blobReader reads a blob from the registry: it stops when ctx is
// cancelled, refuses more bytes than the descriptor's size (a hostile
// registry could send without end) or fewer, and reports progress.
type blobReader struct {
	r    io.Reader
	ctx  context.Context
	want int64
	prog Progress
	ev   BlobEvent
}

func (b *blobReader) Read(p []byte) (int, error) {
	if err := b.ctx.Err(); err != nil {
		return 0, err
	}
	if int64(len(p)) > b.want-b.ev.Done+1 {
		p = p[:b.want-b.ev.Done+1]
	}
	n, err := b.r.Read(p)
	b.ev.Done += int64(n)
	if b.ev.Done > b.want {
		return n, fmt.Errorf("blob %s is longer than the %d bytes its descriptor says: %w", b.ev.Digest, b.want, ErrDigestMismatch)
	}
	if n > 0 {
		b.prog.Blob(b.ev)
	}
	if errors.Is(err, io.EOF) && b.ev.Done < b.want {
		return n, fmt.Errorf("blob %s ended after %d of %d bytes: %w", b.ev.Digest, b.ev.Done, b.want, io.ErrUnexpectedEOF)
	}
	return n, err
}

// lockLayer takes the lock that makes one nook at a time fetch the layer
// diffID: layers/.<hex>.lock. Waiting for it stops when ctx is cancelled.
// Unlocking removes the file first: a nook that got the lock on the
// removed file, and one that made it anew, may then both fetch the layer
// (when the first holder failed to), which only costs a download, as
// layers are renamed into place whole.
func (s *Store) lockLayer(ctx context.Context, diffID string) (func(), error) {
	h, ok := digestHex(diffID)
	if !ok {
		return nil, fmt.Errorf("layer %q: not a sha256 digest: %w", diffID, ErrUnsupported)
	}
	rel := filepath.Join(layersDir, "."+h+".lock")
	withRemove := func(unlock func()) func() {
		return func() {
			os.Remove(filepath.Join(s.root, rel))
			unlock()
		}
	}
	unlock, err := s.flock(rel, unix.LOCK_EX|unix.LOCK_NB)
	if !errors.Is(err, errBusy) {
		if err != nil {
			return nil, err
		}
		return withRemove(unlock), nil
	}
	type result struct {
		unlock func()
		err    error
	}
	ch := make(chan result, 1)
	go func() {
		u, err := s.flock(rel, unix.LOCK_EX)
		ch <- result{u, err}
	}()
	select {
	case r := <-ch:
		if r.err != nil {
			return nil, r.err
		}
		return withRemove(r.unlock), nil
	case <-ctx.Done():
		go func() {
			if r := <-ch; r.err == nil {
				r.unlock()
			}
		}()
		return nil, ctx.Err()
	}
}

// sweepTemporaries removes what interrupted writers left (temporary layer,
// blob and index files, layer locks) when no other operation holds the
// store, so that a killed pull leaves no debris beyond the next one.
// Complete layers that no image names are kept: a pull resumes from them.
func (s *Store) sweepTemporaries() {
	unlock, err := s.gcLock(true)
	if err != nil {
		return
	}
	defer unlock()
	// images.json's temporary file belongs to whoever has the write lock
	// (nook tag and rmi change images.json without holding the store).
	unlockIndex, err := s.writeLock()
	if err != nil {
		return
	}
	defer unlockIndex()
	for _, dir := range []string{s.layers(), filepath.Join(s.root, blobsDir), s.root} {
		entries, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range entries {
			n := e.Name()
			if e.Type().IsRegular() && strings.HasPrefix(n, ".") && (strings.HasSuffix(n, ".tmp") || strings.HasSuffix(n, ".lock")) {
				os.Remove(filepath.Join(dir, n))
			}
		}
	}
}

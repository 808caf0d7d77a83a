package nook

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
	"golang.org/x/term"

	"github.com/nookrun/nook/image"
)

// newProgress shows a pull's or push's progress on w (standard error, so
// that standard output keeps only the result): a bar per layer with bytes
// and rate when w is a terminal, as docker pull draws them; plain lines
// otherwise; nothing when quiet. done must be called once the operation
// ends, to stop the bars. verb says what a bar does ("Downloading"),
// doneWord that it is done ("Pull complete"), as docker pull and push say.
func newProgress(w io.Writer, quiet bool, verb, doneWord string) (p image.Progress, done func()) {
	switch {
	case quiet:
		return nil, func() {}
	case hasTerminalSize(w):
		b := &barProgress{
			p:    mpb.New(mpb.WithOutput(w), mpb.WithWidth(30), mpb.WithRefreshRate(120*time.Millisecond)),
			w:    w,
			bars: map[string]*blobBar{},
			verb: verb,
			done: doneWord,
		}
		return b, b.finish
	}
	return &lineProgress{w: w, seen: map[string]bool{}}, func() {}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// hasTerminalSize reports whether w is a terminal with a size. A pty
// nobody gave a size (script(1) without a terminal, some batch systems and
// CI runners) reports 0x0, in which mpb draws no line at all: plain lines
// serve such a terminal better.
func hasTerminalSize(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	width, height, err := term.GetSize(int(f.Fd()))
	return err == nil && width > 0 && height > 0
}

// shortDigest is a digest as docker pull shows it: 12 hex digits.
func shortDigest(d string) string {
	h := strings.TrimPrefix(d, "sha256:")
	if len(h) > 12 {
		h = h[:12]
	}
	return h
}

// lineProgress writes a line per step: for logs and pipes.
type lineProgress struct {
	mu   sync.Mutex
	w    io.Writer
	seen map[string]bool
}

func (l *lineProgress) Status(msg string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintln(l.w, msg)
}

func (l *lineProgress) Blob(ev image.BlobEvent) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch ev.State {
	case image.BlobExists:
		fmt.Fprintf(l.w, "Copying blob %s skipped: already exists\n", shortDigest(ev.Digest))
	case image.BlobTransferring:
		if !l.seen[ev.Digest] {
			l.seen[ev.Digest] = true
			fmt.Fprintf(l.w, "Copying blob %s (%s)\n", shortDigest(ev.Digest), sizeText(ev.Size))
		}
	case image.BlobDone:
		fmt.Fprintf(l.w, "Copying blob %s done\n", shortDigest(ev.Digest))
	case image.BlobFailed:
		fmt.Fprintf(l.w, "Copying blob %s failed\n", shortDigest(ev.Digest))
	}
}

// barProgress draws a bar per blob with mpb.
type barProgress struct {
	p     *mpb.Progress
	w     io.Writer
	after []string // status lines to print once the bars are done
	verb  string   // what a moving blob shows: "Downloading"
	done  string   // what a moved one shows: "Pull complete"
	mu    sync.Mutex
	bars  map[string]*blobBar
	// order keeps the bars in the order the blobs came, for finish.
	order []*blobBar
}

type blobBar struct {
	bar *mpb.Bar
	// state is read by the bar's decorator on mpb's goroutine, which
	// must not wait for b.mu (held while the bar is updated).
	state atomic.Value
	size  int64
	last  time.Time
	ended bool
}

// Status prints msg above the bars when there are none yet; later lines
// (the manifest being written) come after them, once they are done, as
// lines written to mpb while bars end can be lost.
func (b *barProgress) Status(msg string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.order) == 0 {
		fmt.Fprintln(b.w, msg)
		return
	}
	b.after = append(b.after, msg)
}

func (b *barProgress) Blob(ev image.BlobEvent) {
	b.mu.Lock()
	defer b.mu.Unlock()
	bb := b.bars[ev.Digest]
	if bb == nil {
		bb = &blobBar{size: max(ev.Size, 1), last: time.Now()}
		bb.state.Store("Waiting")
		state := func(decor.Statistics) string { return bb.state.Load().(string) }
		bb.bar = b.p.AddBar(bb.size,
			mpb.PrependDecorators(
				decor.Name(shortDigest(ev.Digest)+": ", decor.WC{C: decor.DindentRight}),
				decor.Any(state, decor.WC{W: 16, C: decor.DindentRight}),
			),
			mpb.AppendDecorators(
				decor.Counters(decor.SizeB1000(0), "% .1f / % .1f", decor.WC{W: 20}),
				decor.OnComplete(decor.EwmaSpeed(decor.SizeB1000(0), "% .1f", 30, decor.WC{W: 12}), ""),
			),
		)
		b.bars[ev.Digest] = bb
		b.order = append(b.order, bb)
	}
	if bb.ended {
		return
	}
	switch ev.State {
	case image.BlobExists:
		bb.state.Store("Already exists")
		bb.ended = true
		bb.bar.SetCurrent(bb.size)
		bb.bar.SetTotal(bb.size, true)
	case image.BlobTransferring:
		bb.state.Store(b.verb)
		now := time.Now()
		// Short of the total: reaching it would end the bar before
		// BlobDone gives its last word.
		if now.Sub(bb.last) >= 50*time.Millisecond {
			bb.bar.EwmaSetCurrent(min(ev.Done, bb.size-1), now.Sub(bb.last))
			bb.last = now
		}
	case image.BlobDone:
		bb.state.Store(b.done)
		bb.ended = true
		bb.bar.SetCurrent(bb.size)
		bb.bar.SetTotal(bb.size, true)
	case image.BlobFailed:
		bb.state.Store("Failed")
		bb.ended = true
		bb.bar.Abort(false)
	}
}

// finish ends the bars that did not end (a failed or cancelled transfer)
// and waits for the last frame.
func (b *barProgress) finish() {
	b.mu.Lock()
	for _, bb := range b.order {
		if !bb.ended {
			bb.ended = true
			bb.bar.Abort(false)
		}
	}
	after := b.after
	b.mu.Unlock()
	b.p.Wait()
	for _, msg := range after {
		fmt.Fprintln(b.w, msg)
	}
}

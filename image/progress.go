package image

// Progress is told what a pull or push does, for display: the image
// package never prints. Its methods are called from several goroutines at
// once (one per layer in flight) and must not block for long.
type Progress interface {
	// Status is a line about the whole operation: "Trying to pull
	// docker.io/library/busybox:latest...", "Writing manifest".
	Status(msg string)
	// Blob reports a step of one blob's transfer.
	Blob(ev BlobEvent)
}

// BlobState is where a blob's transfer is.
type BlobState int

// The states of a blob, in the order they come. A blob that is not
// transferred goes from BlobWaiting straight to BlobExists.
const (
	// BlobWaiting: the blob is known, its transfer not started (it waits
	// for a free download slot, or for another nook fetching it).
	BlobWaiting BlobState = iota
	// BlobExists: the store (pull) or the registry (push) has it already.
	BlobExists
	// BlobTransferring: Done of Size bytes have moved.
	BlobTransferring
	// BlobDone: moved, checked and stored.
	BlobDone
	// BlobFailed: the transfer failed; the operation fails with it.
	BlobFailed
)

// BlobEvent is a step of a blob's transfer.
type BlobEvent struct {
	// Digest names the blob: its digest in the registry when pulling,
	// its DiffID (the stored tar) when pushing.
	Digest string
	// Size is the blob's size in bytes; when pushing, the size of the
	// tar read (the compressed size is known only once it is sent).
	Size int64
	// Done is how many bytes of it have moved so far.
	Done  int64
	State BlobState
}

// noProgress is the Progress of a caller that gives none.
type noProgress struct{}

func (noProgress) Status(string)  {}
func (noProgress) Blob(BlobEvent) {}

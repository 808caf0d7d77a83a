package image

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
)

// verifier passes a blob through while hashing it, and turns the end of
// the stream into an error when the blob does not hash to want: the layer
// writer then fails before it makes the layer visible.
type verifier struct {
	r    io.Reader
	h    hash.Hash
	want string
	name string
}

func newVerifier(r io.Reader, want, name string) io.Reader {
	if want == "" {
		return r
	}
	return &verifier{r: r, h: sha256.New(), want: want, name: name}
}

func (v *verifier) Read(p []byte) (int, error) {
	n, err := v.r.Read(p)
	v.h.Write(p[:n])
	if err == io.EOF {
		if got := "sha256:" + hex.EncodeToString(v.h.Sum(nil)); got != v.want {
			return n, fmt.Errorf("blob %s hashes to %s, want %s: %w", v.name, got, v.want, ErrDigestMismatch)
		}
	}
	return n, err
}

// bothErr is an error that is also a sentinel of this package, keeping
// the message of the error it wraps.
type bothErr struct {
	err      error
	sentinel error
}

func (e *bothErr) Error() string   { return e.err.Error() }
func (e *bothErr) Unwrap() []error { return []error{e.err, e.sentinel} }

// also makes err match sentinel with errors.Is as well.
func also(err, sentinel error) error { return &bothErr{err: err, sentinel: sentinel} }

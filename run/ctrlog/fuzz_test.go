package ctrlog

import (
	"bytes"
	"testing"
)

// FuzzRoundTrip writes arbitrary chunks to both streams, with rotations,
// and reads them back byte for byte.
func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte("hello\nworld"), []byte("\n\n\x00\xff"), uint8(3))
	f.Add(bytes.Repeat([]byte("a"), 3*MaxChunk), []byte("p"), uint8(1))
	f.Fuzz(func(t *testing.T, a, b []byte, n uint8) {
		w, dir := open(t, Options{MaxSize: 1 << 30, MaxFiles: 1})
		var wa, wb []byte
		for i := range int(n%8) + 1 {
			if _, err := w.Stream(Stdout).Write(a); err != nil {
				t.Fatal(err)
			}
			wa = append(wa, a...)
			if i%2 == 0 {
				if _, err := w.Stream(Stderr).Write(b); err != nil {
					t.Fatal(err)
				}
				wb = append(wb, b...)
			}
		}
		out, errs := readAll(t, dir, ReadOptions{Tail: -1})
		if out != string(wa) || errs != string(wb) {
			t.Fatalf("read back %q and %q, want %q and %q", tailOf(out), tailOf(errs), tailOf(string(wa)), tailOf(string(wb)))
		}
	})
}

package layer

import (
	"bytes"
	"fmt"
	"strconv"
)

// rawTar assembles tars byte by byte, for what archive/tar's writer refuses
// to produce: odd names, oversized records, malformed input.
type rawTar struct{ bytes.Buffer }

// header appends a USTAR header block (name up to 100 bytes, no prefix).
func (r *rawTar) header(name string, typeflag byte, size int64, linkname string) *rawTar {
	var b [blockSize]byte
	copy(b[0:100], name)
	copy(b[100:108], "0000644\x00")
	copy(b[108:116], "0000000\x00")
	copy(b[116:124], "0000000\x00")
	copy(b[124:136], fmt.Sprintf("%011o\x00", size))
	copy(b[136:148], fmt.Sprintf("%011o\x00", 1700000000))
	b[156] = typeflag
	copy(b[157:257], linkname)
	copy(b[257:265], "ustar\x0000")
	seal(&b)
	r.Write(b[:])
	return r
}

// seal sets a header block's checksum.
func seal(b *[blockSize]byte) {
	copy(b[148:156], "        ")
	var sum int64
	for _, c := range b {
		sum += int64(c)
	}
	copy(b[148:156], fmt.Sprintf("%06o\x00 ", sum))
}

// data appends d padded to whole blocks.
func (r *rawTar) data(d []byte) *rawTar {
	r.Write(d)
	if pad := roundBlock(int64(len(d))) - int64(len(d)); pad > 0 {
		r.Write(make([]byte, pad))
	}
	return r
}

// pax appends an 'x' header carrying the records (key, value pairs).
func (r *rawTar) pax(kv ...string) *rawTar {
	rec := paxRecords(kv...)
	return r.header("PaxHeader", 'x', int64(len(rec)), "").data(rec)
}

// file appends a regular file.
func (r *rawTar) file(name string, d string) *rawTar {
	return r.header(name, '0', int64(len(d)), "").data([]byte(d))
}

// end appends the two zero blocks.
func (r *rawTar) end() []byte {
	r.Write(make([]byte, 2*blockSize))
	return r.Bytes()
}

// paxRecords formats "%d %s=%s\n" records, the length counting itself.
func paxRecords(kv ...string) []byte {
	var out bytes.Buffer
	for i := 0; i+1 < len(kv); i += 2 {
		body := " " + kv[i] + "=" + kv[i+1] + "\n"
		n := len(body) + 1
		for len(strconv.Itoa(n))+len(body) != n {
			n = len(strconv.Itoa(n)) + len(body)
		}
		out.WriteString(strconv.Itoa(n) + body)
	}
	return out.Bytes()
}

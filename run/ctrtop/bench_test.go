package ctrtop

import "testing"

// BenchmarkPids and BenchmarkTable scan every process of the host for a
// container of four.
func BenchmarkPids(b *testing.B) {
	c := benchCtr(b)
	for b.Loop() {
		if _, err := Pids(c.init); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTable(b *testing.B) {
	c := benchCtr(b)
	for b.Loop() {
		if _, _, err := Table(c.init, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func benchCtr(b *testing.B) *ctr {
	c := startCtr(b, nil, nil, "echo up\nsh -c 'echo child; read x <&3' &\nunshare -pf sh -c 'echo nested; read x <&3' &\necho ready\nread x <&3")
	c.expect(b, "ready", "child", "nested")
	return c
}

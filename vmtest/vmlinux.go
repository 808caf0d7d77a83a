package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/nookrun/nook/internal/atomicfile"
)

// Under TCG, the kernel decompressing itself costs time on every boot.
// Debian's kernels have CONFIG_PVH, so qemu can load the uncompressed ELF
// directly (with the small qboot firmware instead of SeaBIOS): measured
// 0.5–1 s faster per boot. The ELF is cut out of the bzImage once, the way
// the kernel's scripts/extract-vmlinux does it: find the compressed payload
// by its magic and decompress from there.

// payloadFormats are the kernel compressions to look for, with the
// command that decompresses each and the Debian package that has it.
var payloadFormats = []struct {
	magic []byte
	tool  []string
	pkg   string
}{
	{[]byte{0x02, 0x21, 0x4c, 0x18}, []string{"lz4", "-dc"}, "lz4"},             // cloud-amd64
	{[]byte{0xfd, '7', 'z', 'X', 'Z', 0x00}, []string{"xz", "-dc"}, "xz-utils"}, // amd64
	{[]byte{0x28, 0xb5, 0x2f, 0xfd}, []string{"zstd", "-dc"}, "zstd"},           // newer releases
	{[]byte{0x1f, 0x8b, 0x08}, []string{"gzip", "-dc"}, "gzip"},                 // older ones
}

// cachedVmlinux returns dir/vmlinux, making it when missing. It returns ""
// (and says why on stderr) when the bzImage must boot instead.
func cachedVmlinux(ctx context.Context, dir string) (string, error) {
	out := filepath.Join(dir, "vmlinux")
	if _, err := os.Stat(out); err == nil {
		return out, nil
	}
	bz, err := os.ReadFile(filepath.Join(dir, "vmlinuz"))
	if err != nil {
		return "", fmt.Errorf("read the kernel: %w", err)
	}
	var missing []string
	for _, f := range payloadFormats {
		if !bytes.Contains(bz, f.magic) {
			continue
		}
		if _, err := exec.LookPath(f.tool[0]); err != nil {
			missing = append(missing, f.pkg)
			continue
		}
		for off := bytes.Index(bz, f.magic); off >= 0; {
			if elfImage := decompressAt(ctx, bz[off:], f.tool); elfImage != nil {
				if err := atomicfile.WriteFile(out, elfImage, atomicfile.Options{Perm: 0o644}); err != nil {
					return "", fmt.Errorf("keep vmlinux: %w", err)
				}
				return out, nil
			}
			next := bytes.Index(bz[off+1:], f.magic)
			if next < 0 {
				break
			}
			off += 1 + next
		}
	}
	if len(missing) > 0 {
		notice("booting the compressed kernel (about a second slower): install Debian's %v to let vmtest unpack it once", missing)
	} else {
		notice("booting the compressed kernel: found no compressed ELF inside %s", filepath.Join(dir, "vmlinuz"))
	}
	return "", nil
}

// decompressAt runs tool on data and returns its output when that is an
// ELF file. The decompressors complain about the bytes after the payload;
// the ELF before them is complete, so their exit status is ignored.
func decompressAt(ctx context.Context, data []byte, tool []string) []byte {
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, tool[0], tool[1:]...)
	cmd.Stdin = bytes.NewReader(data)
	cmd.Stdout = &out
	_ = cmd.Run()
	if !bytes.HasPrefix(out.Bytes(), []byte("\x7fELF")) {
		return nil
	}
	return out.Bytes()
}

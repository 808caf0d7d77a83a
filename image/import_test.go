package image

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"os"
	"runtime"
	"slices"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

func rootfsTar(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, h := range []*tar.Header{
		{Name: "bin/", Typeflag: tar.TypeDir, Mode: 0o755},
		{Name: "bin/tool", Typeflag: tar.TypeReg, Mode: 0o755, Size: 3},
	} {
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Size > 0 {
			tw.Write([]byte("hi\n"))
		}
	}
	tw.Close()
	return buf.Bytes()
}

func TestImport(t *testing.T) {
	raw := rootfsTar(t)
	var gz, zs bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(raw)
	zw.Close()
	enc, err := zstd.NewWriter(&zs)
	if err != nil {
		t.Fatal(err)
	}
	enc.Write(raw)
	enc.Close()
	s := openStore(t)
	var diffID string
	for name, data := range map[string][]byte{"plain": raw, "gzip": gz.Bytes(), "zstd": zs.Bytes()} {
		start := time.Now().Add(-time.Second)
		img, err := s.Import(context.Background(), bytes.NewReader(data), "imp:"+name, ImportOptions{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(img.Layers) != 1 || img.Platform != runtime.GOOS+"/"+runtime.GOARCH || img.Created.Before(start) ||
			!slices.Equal(img.Config.Env, []string{defaultEnv}) || img.Size != int64(len(raw)) || !slices.Equal(img.Names, []string{"docker.io/library/imp:" + name}) {
			t.Errorf("%s: %+v", name, img)
		}
		got, err := os.ReadFile(img.Layers[0].Tar)
		if err != nil || !bytes.Equal(got, raw) {
			t.Errorf("%s: layer tar differs from the input (%v)", name, err)
		}
		if diffID != "" && img.Layers[0].DiffID != diffID {
			t.Errorf("%s: DiffID %s, want %s", name, img.Layers[0].DiffID, diffID)
		}
		diffID = img.Layers[0].DiffID
	}
	if files := layerFiles(t, s); len(files) != 2 {
		t.Errorf("layers = %q, want one pair", files)
	}
}

func TestImportChanges(t *testing.T) {
	s := openStore(t)
	changes, err := ParseChanges([]string{`CMD ["sh"]`, "ENV PATH=/bin A=1", "EXPOSE 80", "LABEL a=b", "USER 1000", "WORKDIR /w", "STOPSIGNAL SIGINT", "ENTRYPOINT tini --"})
	if err != nil {
		t.Fatal(err)
	}
	img, err := s.Import(context.Background(), bytes.NewReader(rootfsTar(t)), "", ImportOptions{Changes: changes, Platform: "linux/arm64/v8", Message: "m"})
	if err != nil {
		t.Fatal(err)
	}
	c := img.Config
	if !slices.Equal(c.Cmd, []string{"sh"}) || !slices.Equal(c.Env, []string{"PATH=/bin", "A=1"}) || c.User != "1000" || c.WorkingDir != "/w" ||
		c.StopSignal != "SIGINT" || c.Labels["a"] != "b" || len(c.ExposedPorts) != 1 || !slices.Equal(c.Entrypoint, []string{"/bin/sh", "-c", "tini --"}) {
		t.Errorf("config = %+v", c)
	}
	if img.Platform != "linux/arm64/v8" || len(img.Names) != 0 {
		t.Errorf("image = %+v", img)
	}
}

func TestImportErrors(t *testing.T) {
	s := openStore(t)
	before := snapshot(t, s.Root())
	for _, tc := range []struct {
		name string
		data []byte
		ref  string
		opts ImportOptions
		want error
	}{
		{"bad name", rootfsTar(t), "Bad:Name", ImportOptions{}, ErrInvalidReference},
		{"bad platform", rootfsTar(t), "", ImportOptions{Platform: "linux"}, nil},
		{"not a tar", []byte("not a tar at all"), "", ImportOptions{}, nil},
		{"truncated", rootfsTar(t)[:700], "", ImportOptions{}, nil},
	} {
		_, err := s.Import(context.Background(), bytes.NewReader(tc.data), tc.ref, tc.opts)
		if err == nil || tc.want != nil && !errors.Is(err, tc.want) {
			t.Errorf("%s: Import = %v, want an error (%v)", tc.name, err, tc.want)
		}
	}
	if d := diffSnapshots(before, snapshot(t, s.Root())); len(d) > 0 {
		t.Errorf("failed imports changed the store: %q", d)
	}
}

func TestParseChanges(t *testing.T) {
	for _, tc := range []struct {
		in   []string
		want v1.Config
	}{
		{[]string{`CMD ["a", "b c"]`}, v1.Config{Cmd: []string{"a", "b c"}}},
		{[]string{`cmd echo "hi there"`}, v1.Config{Cmd: []string{"/bin/sh", "-c", `echo "hi there"`}}},
		{[]string{`CMD [not json`}, v1.Config{Cmd: []string{"/bin/sh", "-c", "[not json"}}},
		{[]string{`ENTRYPOINT ["/init"]`}, v1.Config{Entrypoint: []string{"/init"}}},
		{[]string{`ENV A=1 B="x y" C='q r' D=a\ b`}, v1.Config{Env: []string{"A=1", "B=x y", "C=q r", "D=a b"}}},
		{[]string{`ENV LEGACY some value`}, v1.Config{Env: []string{"LEGACY=some value"}}},
		{[]string{"ENV A=1", "ENV A=2"}, v1.Config{Env: []string{"A=2"}}},
		{[]string{`LABEL "org.x"="1" y=2`}, v1.Config{Labels: map[string]string{"org.x": "1", "y": "2"}}},
		{[]string{"WORKDIR /a", "WORKDIR b"}, v1.Config{WorkingDir: "/a/b"}},
		{[]string{"USER user:group"}, v1.Config{User: "user:group"}},
		{[]string{"EXPOSE 80 53/udp 8000-8001/tcp"}, v1.Config{ExposedPorts: map[string]struct{}{"80/tcp": {}, "53/udp": {}, "8000/tcp": {}, "8001/tcp": {}}}},
		{[]string{"STOPSIGNAL SIGKILL"}, v1.Config{StopSignal: "SIGKILL"}},
	} {
		got, err := ParseChanges(tc.in)
		if err != nil {
			t.Errorf("ParseChanges(%q) = %v", tc.in, err)
			continue
		}
		if !configEqual(got, tc.want) {
			t.Errorf("ParseChanges(%q) = %+v, want %+v", tc.in, got, tc.want)
		}
	}
	for _, bad := range []string{"RUN make", "FROM x", "CMD", "ENV A", `ENV A="open`, "ENV =x", "EXPOSE 0", "EXPOSE 70000", "EXPOSE 80/xtp", "EXPOSE 9-1", "LABEL novalue", ""} {
		if _, err := ParseChanges([]string{bad}); err == nil {
			t.Errorf("ParseChanges(%q) succeeded", bad)
		}
	}
}

func configEqual(a, b v1.Config) bool {
	ja, _ := jsonOf(a)
	jb, _ := jsonOf(b)
	return ja == jb
}

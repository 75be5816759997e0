package data

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func sampleIdx() *Idx {
	x := &Idx{Type: IdxUint8, Dims: []int{3, 2, 4}}
	for i := 0; i < 24; i++ {
		x.Data = append(x.Data, byte(i*7))
	}
	return x
}

func encodeIdx(t testing.TB, x *Idx) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteIdx(&buf, x); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestIdxRoundTrip(t *testing.T) {
	dir := t.TempDir()
	for _, x := range []*Idx{
		sampleIdx(),
		{Type: IdxUint8, Dims: []int{5}, Data: []byte{1, 2, 3, 4, 5}},
		{Type: IdxFloat32, Dims: []int{2, 1}, Data: []byte{1, 2, 3, 4, 5, 6, 7, 8}},
	} {
		for _, name := range []string{"a.idx", "a.idx.gz"} {
			path := filepath.Join(dir, name)
			if err := WriteIdxFile(path, x); err != nil {
				t.Fatal(err)
			}
			got, err := ReadIdxFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if got.Type != x.Type || !slices.Equal(got.Dims, x.Dims) || !bytes.Equal(got.Data, x.Data) {
				t.Errorf("%s: round trip of %s gave %s", name, idxString(x), idxString(got))
			}
		}
	}
	// No temporary files are left behind by the atomic writer.
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("folder holds %d entries, want 2", len(entries))
	}
}

func TestIdxMalformed(t *testing.T) {
	good := encodeIdx(t, sampleIdx())
	mod := func(f func(b []byte) []byte) []byte {
		return f(append([]byte(nil), good...))
	}
	for _, c := range []struct {
		name, want string
		data       []byte
	}{
		{"empty", "magic", nil},
		{"bad magic", "magic", mod(func(b []byte) []byte { b[0] = 1; return b })},
		{"bad type", "element type", mod(func(b []byte) []byte { b[2] = 0x07; return b })},
		{"zero dims", "dimensions", mod(func(b []byte) []byte { b[3] = 0; return b })},
		{"too many dims", "dimensions", mod(func(b []byte) []byte { b[3] = 200; return b })},
		{"zero dim", "dimension 1 is 0", mod(func(b []byte) []byte { copy(b[8:12], []byte{0, 0, 0, 0}); return b })},
		{"truncated header", "dimension 2", good[:13]},
		{"short data", "declares", good[:len(good)-1]},
		{"trailing", "trailing", append(append([]byte(nil), good...), 9)},
		{"huge", "exceed", mod(func(b []byte) []byte {
			copy(b[4:16], []byte{0x7f, 0xff, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff})
			return b
		})},
		{"huge but within limit", "declares", mod(func(b []byte) []byte {
			copy(b[4:16], []byte{0, 0x10, 0, 0, 0, 0, 0x10, 0, 0, 0, 0, 1})
			return b
		})},
	} {
		_, err := ReadIdx(bytes.NewReader(c.data))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one mentioning %q", c.name, err, c.want)
		}
	}
	// File errors name the file, for raw and gzipped files.
	dir := t.TempDir()
	raw := filepath.Join(dir, "short-idx3-ubyte")
	os.WriteFile(raw, good[:len(good)-3], 0o644)
	var zbuf bytes.Buffer
	zw := gzip.NewWriter(&zbuf)
	zw.Write(good[:len(good)-3])
	zw.Close()
	gz := filepath.Join(dir, "short-idx3-ubyte.gz")
	os.WriteFile(gz, zbuf.Bytes(), 0o644)
	notgz := filepath.Join(dir, "plain.gz")
	os.WriteFile(notgz, good, 0o644)
	for _, p := range []string{raw, gz, notgz, filepath.Join(dir, "missing")} {
		_, err := ReadIdxFile(p)
		if err == nil || !strings.Contains(err.Error(), p) {
			t.Errorf("ReadIdxFile(%s): error %v does not name the file", p, err)
		}
	}
	// WriteIdx rejects inconsistent arrays.
	for _, x := range []*Idx{nil, {Type: 0x42, Dims: []int{1}, Data: []byte{0}},
		{Type: IdxUint8, Dims: []int{2}, Data: []byte{0}}, {Type: IdxUint8, Dims: nil},
		{Type: IdxUint8, Dims: []int{0}}} {
		if err := WriteIdx(&bytes.Buffer{}, x); err == nil {
			t.Errorf("WriteIdx(%v) succeeded", x)
		}
	}
}

// FuzzIdx checks that ReadIdx never panics and that whatever it accepts
// re-encodes to the same bytes.
func FuzzIdx(f *testing.F) {
	f.Add(encodeIdx(f, sampleIdx()))
	f.Add(encodeIdx(f, &Idx{Type: IdxInt16, Dims: []int{2}, Data: []byte{0, 1, 2, 3}}))
	f.Add([]byte{0, 0, 8, 1, 0, 0, 0, 0})
	f.Add([]byte{0, 0, 8, 3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		x, err := ReadIdx(bytes.NewReader(b))
		if err != nil {
			return
		}
		if x.Len()*idxElemSize(x.Type) != len(x.Data) {
			t.Fatalf("accepted %s with %d bytes", idxString(x), len(x.Data))
		}
		if out := encodeIdx(t, x); !bytes.Equal(out, b) {
			t.Fatalf("re-encoding differs")
		}
	})
}

func TestIdxDataset(t *testing.T) {
	images := &Idx{Type: IdxUint8, Dims: []int{2, 2, 3}, Data: []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}}
	labels := &Idx{Type: IdxUint8, Dims: []int{2}, Data: []byte{1, 0}}
	d, err := NewIdxDataset("x", images, labels, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c, h, w := d.Shape(); c != 1 || h != 2 || w != 3 || d.Len() != 2 || len(d.Classes()) != 2 {
		t.Fatalf("shape %d %d %d len %d classes %v", c, h, w, d.Len(), d.Classes())
	}
	s, err := d.Sample(1)
	if err != nil {
		t.Fatal(err)
	}
	x := ToCHW(s.Image, nil, nil)
	for i, v := range x {
		if v != float32(6+i) {
			t.Fatalf("sample 1 pixels %v", x)
		}
	}
	if s.Label != 0 || s.Path != "x#1" {
		t.Errorf("label %d path %q", s.Label, s.Path)
	}
	if _, err := d.Sample(2); err == nil {
		t.Error("Sample(2) succeeded")
	}
	if _, err := NewIdxDataset("x", images, &Idx{Type: IdxUint8, Dims: []int{3}, Data: []byte{0, 0, 0}}, nil); err == nil {
		t.Error("label count mismatch accepted")
	}
	if _, err := NewIdxDataset("x", images, labels, []string{"only"}); err == nil {
		t.Error("label beyond classes accepted")
	}
	if _, err := NewIdxDataset("x", &Idx{Type: IdxUint8, Dims: []int{12}, Data: images.Data}, labels, nil); err == nil {
		t.Error("1-D images accepted")
	}
}

package eval

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/goinception/googlenet/internal/peer"
)

// logitTol bounds the difference between logits of one image computed in
// batches of different sizes (float32 sums in another order).
const logitTol = 1e-4

// npyFile builds a .npy version 1.0 image with the given header fields.
func npyFile(descr string, fortran bool, shape string, payload []byte) []byte {
	f := "False"
	if fortran {
		f = "True"
	}
	h := fmt.Sprintf("{'descr': '%s', 'fortran_order': %s, 'shape': %s, }", descr, f, shape)
	for (10+len(h)+1)%64 != 0 {
		h += " "
	}
	h += "\n"
	var b bytes.Buffer
	b.Write([]byte("\x93NUMPY\x01\x00"))
	binary.Write(&b, binary.LittleEndian, uint16(len(h)))
	b.WriteString(h)
	b.Write(payload)
	return b.Bytes()
}

func f32bytes(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

func f64bytes(v []float64) []byte {
	b := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(x))
	}
	return b
}

// The .npy round trip: an NCHW batch written and read back, the logits of
// Infer equal to Forward's, written and read back.
func TestInferRoundTrip(t *testing.T) {
	m := miniModel(t, 4, 10)
	cfg := m.Model.Config()
	n := 5
	x := &Array{Shape: []int{n, 1, cfg.InputSize, cfg.InputSize}, Data: make([]float32, n*cfg.InputSize*cfg.InputSize)}
	for i := range x.Data {
		x.Data[i] = float32(math.Sin(float64(i)))
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "x.npy")
	if err := WriteNpy(in, x); err != nil {
		t.Fatal(err)
	}
	back, err := ReadNpy(in)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(back.Shape) != fmt.Sprint(x.Shape) {
		t.Fatalf("shape %v, wrote %v", back.Shape, x.Shape)
	}
	for i := range x.Data {
		if math.Float32bits(back.Data[i]) != math.Float32bits(x.Data[i]) {
			t.Fatalf("value %d: %v, wrote %v", i, back.Data[i], x.Data[i])
		}
	}
	y, err := Infer(m.Model, back, 2) // batches of 2, 2 and a padded 1
	if err != nil {
		t.Fatal(err)
	}
	ref, err := m.Model.Forward(tensor.New(tensor.WithShape(x.Shape...), tensor.WithBacking(append([]float32(nil), x.Data...))))
	if err != nil {
		t.Fatal(err)
	}
	want := ref.Data().([]float32)
	if fmt.Sprint(y.Shape) != fmt.Sprint([]int{n, 10}) {
		t.Fatalf("logits shape %v", y.Shape)
	}
	for i := range want {
		if math.Abs(float64(y.Data[i]-want[i])) > logitTol {
			t.Fatalf("logit %d: %v, Forward gives %v", i, y.Data[i], want[i])
		}
	}
	out := filepath.Join(dir, "y.npy")
	if err := WriteNpy(out, y); err != nil {
		t.Fatal(err)
	}
	yb, err := ReadNpy(out)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(yb.Shape) != "[5 10]" || len(yb.Data) != 50 {
		t.Fatalf("read back logits of shape %v", yb.Shape)
	}
	// NumPy reads what we write (a subtest: skipped without the peer,
	// failed when GOOGLENET_REQUIRE_PEERS=1).
	t.Run("numpy", func(t *testing.T) {
		py := peer.Python(t, "numpy")
		o, err := exec.Command(py, "-c", "import numpy,sys; a=numpy.load(sys.argv[1]); print(a.dtype, a.shape, repr(float(a[4,9])))", out).CombinedOutput()
		if err != nil {
			t.Fatalf("numpy: %v: %s", err, o)
		}
		if want := fmt.Sprintf("float32 (5, 10) %v", float64(y.Data[49])); strings.TrimSpace(string(o)) != want {
			t.Errorf("numpy reads %q, want %q", strings.TrimSpace(string(o)), want)
		}
	})
	// No temporary files are left behind.
	if ents, _ := os.ReadDir(dir); len(ents) != 2 {
		t.Errorf("%d files in the output folder, want 2", len(ents))
	}
}

func TestReadNpyFloat64(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.npy")
	if err := os.WriteFile(path, npyFile("<f8", false, "(1, 3)", f64bytes([]float64{0.1, -2, 1e30})), 0o644); err != nil {
		t.Fatal(err)
	}
	a, err := ReadNpy(path)
	if err != nil {
		t.Fatal(err)
	}
	if a.Data[0] != float32(0.1) || a.Data[1] != -2 || a.Data[2] != float32(1e30) {
		t.Errorf("converted %v", a.Data)
	}
}

func TestReadNpyErrors(t *testing.T) {
	good := npyFile("<f4", false, "(2, 2)", f32bytes([]float32{1, 2, 3, 4}))
	noNewline := npyFile("<f4", false, "(2, 2)", f32bytes([]float32{1, 2, 3, 4}))
	noNewline[10+int(noNewline[8])-1] = ' '
	for _, c := range []struct {
		name string
		b    []byte
		want string
	}{
		{"empty", nil, "not a .npy file"},
		{"magic", append([]byte("PK\x03\x04"), good[4:]...), "not a .npy file"},
		{"version", append(append([]byte{}, good[:6]...), append([]byte{9, 0}, good[8:]...)...), "version 9.0"},
		{"header beyond file", good[:40], "beyond the end"},
		{"no newline", noNewline, "malformed"},
		{"garbled header", npyFile("<f4", false, "(2, x)", f32bytes([]float32{1, 2, 3, 4})), "npy header"},
		{"int64", npyFile("<i8", false, "(2,)", make([]byte, 16)), "dtype \"<i8\" not supported"},
		{"fortran", npyFile("<f4", true, "(2, 2)", f32bytes([]float32{1, 2, 3, 4})), "Fortran"},
		{"truncated data", good[:len(good)-3], "needs 16 data bytes, the file has 13"},
		{"trailing data", append(append([]byte{}, good...), 0), "the file has 17"},
		{"float64 overflow", npyFile("<f8", false, "(1,)", f64bytes([]float64{1e300})), "beyond float32's range"},
		{"huge shape", npyFile("<f4", false, "(1000000000, 1000000000, 1000)", nil), "bad shape"},
	} {
		path := filepath.Join(t.TempDir(), "x.npy")
		if err := os.WriteFile(path, c.b, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := ReadNpy(path)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "x.npy") {
			t.Errorf("%s: %v, want an error naming the file with %q", c.name, err, c.want)
		}
	}
	if _, err := ReadNpy(filepath.Join(t.TempDir(), "missing.npy")); err == nil {
		t.Error("missing file: no error")
	}
}

func TestInferErrors(t *testing.T) {
	m := miniModel(t, 1, 10)
	for _, c := range []struct {
		x    *Array
		want string
	}{
		{&Array{Shape: []int{1, 28, 28}, Data: make([]float32, 784)}, "takes NCHW [N, 1, 28, 28]"},
		{&Array{Shape: []int{1, 3, 28, 28}, Data: make([]float32, 3*784)}, "takes NCHW [N, 1, 28, 28]"},
		{&Array{Shape: []int{1, 1, 32, 32}, Data: make([]float32, 1024)}, "takes NCHW"},
		{&Array{Shape: []int{0, 1, 28, 28}}, "no images"},
		{&Array{Shape: []int{1, 1, 28, 28}, Data: append(make([]float32, 783), float32(math.NaN()))}, "NaN at image 0, index 783"},
	} {
		_, err := Infer(m.Model, c.x, 0)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Infer(%v): %v, want an error with %q", c.x.Shape, err, c.want)
		}
	}
	dir := t.TempDir()
	if err := WriteNpy(filepath.Join(dir, "y.npy"), &Array{Shape: []int{2, 3}, Data: make([]float32, 5)}); err == nil {
		t.Error("WriteNpy with a short array: no error")
	}
	if err := WriteNpy(filepath.Join(dir, "no", "such", "y.npy"), &Array{Shape: []int{1}, Data: []float32{1}}); err == nil {
		t.Error("WriteNpy into a missing folder: no error")
	}
}

// FuzzDecodeNpy: any bytes give an array whose size matches its shape, or an
// error; never a panic.
func FuzzDecodeNpy(f *testing.F) {
	f.Add(npyFile("<f4", false, "(2, 2)", f32bytes([]float32{1, 2, 3, 4})))
	f.Add(npyFile("<f8", false, "(1, 1, 1, 2)", f64bytes([]float64{1, 2})))
	f.Add(npyFile("<f4", false, "()", f32bytes([]float32{1})))
	f.Add(npyFile("<f4", true, "(2,)", f32bytes([]float32{1, 2})))
	f.Add([]byte("\x93NUMPY\x02\x00\xff\xff\xff\x7f"))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := decodeNpy(b)
		if err != nil {
			return
		}
		n := 1
		for _, d := range a.Shape {
			n *= d
		}
		if n != len(a.Data) {
			t.Fatalf("shape %v with %d values", a.Shape, len(a.Data))
		}
	})
}

package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// valueTol is the absolute tolerance when comparing float32 values read
// here with the float64 values Python wrote to expected.json.
const valueTol = 1e-6

type expectedTensor struct {
	DType  string    `json:"dtype"`
	Shape  []int     `json:"shape"`
	Values []float64 `json:"values"`
}

func loadExpected(t *testing.T) map[string]map[string]expectedTensor {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var e map[string]map[string]expectedTensor
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatal(err)
	}
	return e
}

func checkAgainst(t *testing.T, f *File, want map[string]expectedTensor) {
	t.Helper()
	if len(f.Tensors) != len(want) {
		t.Fatalf("got %d tensors %v, want %d", len(f.Tensors), f.Names(), len(want))
	}
	for name, w := range want {
		got, ok := f.Tensor(name)
		if !ok {
			t.Errorf("missing tensor %q", name)
			continue
		}
		if string(got.DType) != w.DType || !reflect.DeepEqual(got.Shape, w.Shape) {
			t.Errorf("%s: got %s %v, want %s %v", name, got.DType, got.Shape, w.DType, w.Shape)
			continue
		}
		var vals []float64
		if got.DType == I64 {
			v, err := got.Int64s()
			if err != nil {
				t.Fatal(err)
			}
			for _, x := range v {
				vals = append(vals, float64(x))
			}
		} else {
			v, err := got.Float32s()
			if err != nil {
				t.Fatal(err)
			}
			for _, x := range v {
				vals = append(vals, float64(x))
			}
		}
		for i := range w.Values {
			d := math.Abs(vals[i] - w.Values[i])
			if d > valueTol*math.Max(1, math.Abs(w.Values[i])) {
				t.Errorf("%s[%d] = %v, want %v", name, i, vals[i], w.Values[i])
			}
		}
	}
}

func TestReadPythonFixtures(t *testing.T) {
	exp := loadExpected(t)
	f, err := ReadFile(filepath.Join("testdata", "tiny.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	checkAgainst(t, f, exp["tiny"])
	if f.Metadata["variant"] != "tiny" || f.Metadata["classes"] != "2" {
		t.Errorf("metadata = %v", f.Metadata)
	}
	h, err := ReadFile(filepath.Join("testdata", "halfs.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	checkAgainst(t, h, exp["halfs"])
}

func TestHalfToFloat32(t *testing.T) {
	for _, c := range []struct {
		h    uint16
		want float32
	}{
		{0x3c00, 1}, {0xc000, -2}, {0x7bff, 65504}, {0x0400, 6.1035156e-05},
		{0x0001, 5.9604645e-08}, {0x03ff, 6.0975552e-05}, {0x8000, float32(math.Copysign(0, -1))},
		{0x7c00, float32(math.Inf(1))}, {0xfc00, float32(math.Inf(-1))},
	} {
		got := HalfToFloat32(c.h)
		if got != c.want || math.Signbit(float64(got)) != math.Signbit(float64(c.want)) {
			t.Errorf("HalfToFloat32(%#04x) = %v, want %v", c.h, got, c.want)
		}
	}
	if !math.IsNaN(float64(HalfToFloat32(0x7e00))) {
		t.Error("0x7e00 should be NaN")
	}
}

func TestRoundTrip(t *testing.T) {
	w, err := NewF32("conv.weight", []int{2, 1, 1, 2}, []float32{1, -2, 3.5, 4})
	if err != nil {
		t.Fatal(err)
	}
	n, err := NewI64("bn.num_batches_tracked", []int{}, []int64{7})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "x.safetensors")
	meta := map[string]string{"variant": "mini"}
	if err := WriteFile(path, []Tensor{w, n}, meta); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if hl := binary.LittleEndian.Uint64(b); (8+hl)%8 != 0 {
		t.Errorf("data buffer not 8-byte aligned: header length %d", hl)
	}
	f, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(f.Metadata, meta) {
		t.Errorf("metadata %v", f.Metadata)
	}
	gw, _ := f.Tensor("conv.weight")
	v, err := gw.Float32s()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(v, []float32{1, -2, 3.5, 4}) || !reflect.DeepEqual(gw.Shape, []int{2, 1, 1, 2}) {
		t.Errorf("conv.weight = %v %v", gw.Shape, v)
	}
	gn, _ := f.Tensor("bn.num_batches_tracked")
	iv, err := gn.Int64s()
	if err != nil || len(iv) != 1 || iv[0] != 7 || len(gn.Shape) != 0 {
		t.Errorf("num_batches_tracked = %v %v %v", gn.Shape, iv, err)
	}
}

func TestWriteFileRejectsBadInputWithoutCreatingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.safetensors")
	bad := Tensor{Name: "w", DType: F32, Shape: []int{3}, Data: make([]byte, 8)}
	if err := WriteFile(path, []Tensor{bad}, nil); err == nil {
		t.Fatal("want error for short data")
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("file created despite error: %v", err)
	}
	a, _ := NewF32("w", []int{1}, []float32{1})
	if err := WriteFile(path, []Tensor{a, a}, nil); err == nil || !strings.Contains(err.Error(), "duplicate") {
		t.Fatalf("want duplicate-name error, got %v", err)
	}
	if _, err := NewF32("w", []int{2, 2}, []float32{1}); err == nil {
		t.Fatal("want shape/length mismatch error")
	}
}

func TestCheckFinite(t *testing.T) {
	a, _ := NewF32("ok", []int{2}, []float32{1, 2})
	b, _ := NewF32("bad", []int{3}, []float32{0, float32(math.NaN()), 1})
	f := &File{Tensors: []Tensor{a}}
	if err := f.CheckFinite(); err != nil {
		t.Fatal(err)
	}
	f.Tensors = append(f.Tensors, b)
	err := f.CheckFinite()
	if err == nil || !strings.Contains(err.Error(), `"bad"`) || !strings.Contains(err.Error(), "index 1") {
		t.Fatalf("CheckFinite = %v", err)
	}
}

// build makes a file from a raw header string and a data buffer.
func build(header string, data []byte) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, uint64(len(header)))
	b.WriteString(header)
	b.Write(data)
	return b.Bytes()
}

func TestParseRejectsBadInput(t *testing.T) {
	good := build(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, make([]byte, 8))
	if _, err := Parse(good); err != nil {
		t.Fatalf("good file rejected: %v", err)
	}
	huge := make([]byte, 16)
	binary.LittleEndian.PutUint64(huge, 1<<62)
	for _, c := range []struct {
		name, want string
		b          []byte
	}{
		{"empty", "shorter than", nil},
		{"truncated", "beyond the end", good[:len(good)-20]},
		{"header length beyond file", "beyond the end", huge},
		{"wrong magic", "does not start", build(`PK..`, nil)},
		{"unterminated object", "malformed", build(`{`, nil)},
		{"array", "does not start", build(`[1]`, nil)},
		{"bad json", "malformed", build(`{"a":}`, nil)},
		{"trailing", "trailing", build(`{} x`, nil)},
		{"duplicate name", "duplicate tensor name", build(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, make([]byte, 8))},
		{"unknown dtype", "unknown dtype", build(`{"a":{"dtype":"F8","shape":[1],"data_offsets":[0,1]}}`, make([]byte, 1))},
		{"unknown field", "unknown field", build(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"x":1}}`, make([]byte, 4))},
		{"shape mismatch", "needs", build(`{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`, make([]byte, 8))},
		{"negative dim", "dimension", build(`{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}`, make([]byte, 4))},
		{"overflowing shape", "", build(`{"a":{"dtype":"F32","shape":[4294967296,4294967296,4],"data_offsets":[0,4]}}`, make([]byte, 4))},
		{"offsets out of range", "out of range", build(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, make([]byte, 4))},
		{"offsets reversed", "out of range", build(`{"a":{"dtype":"F32","shape":[0],"data_offsets":[4,0]}}`, make([]byte, 4))},
		{"overlap", "overlaps", build(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, make([]byte, 8))},
		{"hole", "hole", build(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, make([]byte, 8))},
		{"unused tail", "cover", build(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, make([]byte, 8))},
		{"metadata not strings", "__metadata__", build(`{"__metadata__":{"a":1}}`, nil)},
		{"missing shape", "no shape", build(`{"a":{"dtype":"F32","data_offsets":[0,0]}}`, nil)},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse(c.b)
			if err == nil {
				t.Fatal("Parse accepted bad input")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q does not mention %q", err, c.want)
			}
		})
	}
}

func FuzzSafetensors(f *testing.F) {
	for _, name := range []string{"tiny.safetensors", "halfs.safetensors"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add(build(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, make([]byte, 8)))
	f.Fuzz(func(t *testing.T, b []byte) {
		file, err := Parse(b)
		if err != nil {
			return
		}
		// Whatever parses must survive conversion and re-encoding.
		for _, tn := range file.Tensors {
			tn.Float32s()
			tn.Int64s()
		}
		file.CheckFinite()
		out, err := Marshal(file.Tensors, file.Metadata)
		if err != nil {
			t.Fatalf("re-encoding a parsed file: %v", err)
		}
		again, err := Parse(out)
		if err != nil {
			t.Fatalf("re-parsing: %v", err)
		}
		if len(again.Tensors) != len(file.Tensors) {
			t.Fatalf("round trip changed tensor count")
		}
	})
}

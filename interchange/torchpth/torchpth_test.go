package torchpth

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// valueTol is the relative tolerance when comparing float32 values read here
// with the float64 values Python wrote to expected.json.
const valueTol = 1e-6

type expectedTensor struct {
	DType  string    `json:"dtype"`
	Shape  []int     `json:"shape"`
	Values []float64 `json:"values"`
}

var dtypeNames = map[string]string{"F32": "float32", "I64": "int64"}

func loadExpected(t testing.TB) map[string]map[string]expectedTensor {
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

func checkAgainst(t *testing.T, sd *StateDict, want map[string]expectedTensor) {
	t.Helper()
	if len(sd.Names) != len(want) {
		t.Fatalf("got %d tensors %v, want %d", len(sd.Names), sd.Names, len(want))
	}
	for name, w := range want {
		got, ok := sd.Tensors[name]
		if !ok {
			t.Errorf("missing tensor %q", name)
			continue
		}
		if got.DType != dtypeNames[w.DType] || !reflect.DeepEqual(got.Shape, w.Shape) {
			t.Errorf("%s: got %s %v, want %s %v", name, got.DType, got.Shape, w.DType, w.Shape)
			continue
		}
		for i, x := range w.Values {
			if d := math.Abs(float64(got.Data[i]) - x); d > valueTol*math.Max(1, math.Abs(x)) {
				t.Errorf("%s[%d] = %v, want %v", name, i, got.Data[i], x)
			}
			if got.Ints != nil && float64(got.Ints[i]) != x {
				t.Errorf("%s ints[%d] = %v, want %v", name, i, got.Ints[i], x)
			}
		}
	}
}

func TestReadPythonFixtures(t *testing.T) {
	exp := loadExpected(t)
	for _, c := range []struct{ file, key string }{
		{"tiny.pth", "tiny"},
		{"tiny_legacy.pth", "tiny"},
		{"tiny_wrapped.pt", "tiny"},
		{"tiny_params.pt", "params"},
	} {
		t.Run(c.file, func(t *testing.T) {
			sd, err := ReadFile(filepath.Join("testdata", c.file))
			if err != nil {
				t.Fatal(err)
			}
			checkAgainst(t, sd, exp[c.key])
			if err := sd.CheckFinite(); err != nil {
				t.Error(err)
			}
		})
	}
	sd, err := ReadFile(filepath.Join("testdata", "tiny.pth"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"conv.weight", "conv.bias", "bn.weight", "bn.bias", "bn.running_mean", "bn.running_var", "bn.num_batches_tracked", "fc.weight", "fc.bias"}
	if !reflect.DeepEqual(sd.Names, want) {
		t.Errorf("names %v, want saved order %v", sd.Names, want)
	}
	if n := sd.Tensors["bn.num_batches_tracked"]; len(n.Shape) != 0 || n.Ints[0] != 3 {
		t.Errorf("num_batches_tracked = %v %v", n.Shape, n.Ints)
	}
}

// rewriteZip copies the zip archive b, passing each record through edit,
// which may change its contents or drop it (by returning nil).
func rewriteZip(t *testing.T, b []byte, edit func(name string, data []byte) []byte) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, f := range zr.File {
		r, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(r)
		r.Close()
		if err != nil {
			t.Fatal(err)
		}
		data = edit(f.Name, data)
		if data == nil {
			continue
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: f.Name, Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// addRecord returns the zip archive b with one more record.
func addRecord(t *testing.T, b []byte, name string, data []byte) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, f := range zr.File {
		if err := zw.Copy(f); err != nil {
			t.Fatal(err)
		}
	}
	w, err := zw.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(data)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func TestRejectsBadInput(t *testing.T) {
	pth, err := os.ReadFile(filepath.Join("testdata", "tiny.pth"))
	if err != nil {
		t.Fatal(err)
	}
	legacy, err := os.ReadFile(filepath.Join("testdata", "tiny_legacy.pth"))
	if err != nil {
		t.Fatal(err)
	}
	withPickle := func(p string) []byte {
		return rewriteZip(t, pth, func(name string, data []byte) []byte {
			if strings.HasSuffix(name, "data.pkl") {
				return []byte(p)
			}
			return data
		})
	}
	for _, c := range []struct {
		name, want string
		b          []byte
	}{
		{"empty", "not a PyTorch file", nil},
		{"wrong magic", "not a PyTorch file", []byte("GIF89a")},
		{"truncated zip", "zip", pth[:len(pth)/2]},
		{"truncated legacy", "", legacy[:len(legacy)-10]},
		{"legacy wrong magic", "magic", append([]byte("\x80\x02K\x05."), legacy[15:]...)},
		{"forbidden GLOBAL", "os.system", withPickle("\x80\x02cos\nsystem\nX\x02\x00\x00\x00ls\x85R.")},
		{"forbidden INST", "builtins.eval", withPickle("(X\x01\x00\x00\x001ibuiltins\neval\n.")},
		{"forbidden STACK_GLOBAL", "not on the allow-list", withPickle("\x80\x04\x8c\x02os\x8c\x06system\x93.")},
		{"inert builtin object", "not allowed", withPickle("\x80\x04\x8c\x0b__builtin__\x8c\x06object\x93.")},
		{"huge length argument", "needs", withPickle("\x80\x04\x8e\xff\xff\xff\xff\xff\xff\xff\x7f.")},
		{"no STOP", "truncated", withPickle("\x80\x02}")},
		{"unknown opcode", "unknown opcode", withPickle("\x80\x02\xff.")},
		{"not a dict", "want a state dict", withPickle("\x80\x02K\x05.")},
		{"non-tensor entry", "not a tensor", withPickle("\x80\x02}X\x01\x00\x00\x00aK\x01s.")},
		{"missing storage record", "no record", rewriteZip(t, pth, func(name string, data []byte) []byte {
			if strings.HasSuffix(name, "data/0") {
				return nil
			}
			return data
		})},
		{"short storage record", "does not fit", rewriteZip(t, pth, func(name string, data []byte) []byte {
			if strings.HasSuffix(name, "data/0") {
				return data[:10]
			}
			return data
		})},
		{"no data.pkl", "no data.pkl", rewriteZip(t, pth, func(name string, data []byte) []byte {
			if strings.HasSuffix(name, "data.pkl") {
				return nil
			}
			return data
		})},
		{"big-endian", "only little-endian", addRecord(t, pth, "tiny/byteorder", []byte("big"))},
		{"torchscript", "TorchScript", addRecord(t, pth, "tiny/constants.pkl", []byte("\x80\x02)."))},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := c.b
			_, err := Parse(b)
			if err == nil {
				t.Fatal("Parse accepted bad input")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q does not mention %q", err, c.want)
			}
		})
	}
}

func TestEveryTruncationFails(t *testing.T) {
	for _, name := range []string{"tiny.pth", "tiny_legacy.pth"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		for n := 0; n < len(b); n++ {
			if _, err := Parse(b[:n]); err == nil {
				t.Fatalf("%s truncated to %d bytes was accepted", name, n)
			}
		}
	}
}

func TestCheckFinite(t *testing.T) {
	sd := &StateDict{Names: []string{"a", "b"}, Tensors: map[string]Tensor{
		"a": {DType: "float32", Shape: []int{1}, Data: []float32{1}},
		"b": {DType: "float32", Shape: []int{2}, Data: []float32{0, float32(math.Inf(-1))}},
	}}
	err := sd.CheckFinite()
	if err == nil || !strings.Contains(err.Error(), `"b"`) || !strings.Contains(err.Error(), "index 1") {
		t.Fatalf("CheckFinite = %v", err)
	}
}

func TestStridedView(t *testing.T) {
	// A transposed 2x3 view of a 6-element storage, as torch.save keeps
	// non-contiguous tensors.
	data := make([]byte, 24)
	for i := 0; i < 6; i++ {
		bitsLE(data[4*i:], math.Float32bits(float32(i)))
	}
	s := &storageRef{typ: storageTypes["FloatStorage"], key: "0", numel: 6, data: data}
	got, err := materialize(&tensorRef{storage: s, size: []int{3, 2}, stride: []int{1, 3}})
	if err != nil {
		t.Fatal(err)
	}
	if want := []float32{0, 3, 1, 4, 2, 5}; !reflect.DeepEqual(got.Data, want) {
		t.Errorf("transposed view = %v, want %v", got.Data, want)
	}
	if _, err := materialize(&tensorRef{storage: s, offset: 1, size: []int{3, 2}, stride: []int{1, 3}}); err == nil {
		t.Error("view past the end of its storage accepted")
	}
}

func bitsLE(b []byte, v uint32) {
	b[0], b[1], b[2], b[3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
}

func FuzzPth(f *testing.F) {
	for _, name := range []string{"tiny.pth", "tiny_legacy.pth", "tiny_wrapped.pt", "tiny_params.pt"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("\x80\x02}X\x01\x00\x00\x00aK\x01s."))
	f.Fuzz(func(t *testing.T, b []byte) {
		sd, err := Parse(b)
		if err != nil {
			return
		}
		for _, name := range sd.Names {
			tn := sd.Tensors[name]
			if len(tn.Data) != tn.NumElements() {
				t.Fatalf("%s: %d values for shape %v", name, len(tn.Data), tn.Shape)
			}
		}
		sd.CheckFinite()
	})
}

func TestDeeplyNestedPickle(t *testing.T) {
	// A million nested lists: the safety walk must not exhaust the stack.
	const depth = 1 << 20
	p := "\x80\x02" + strings.Repeat("]", depth) + strings.Repeat("a", depth-1) + "."
	pth, err := os.ReadFile(filepath.Join("testdata", "tiny.pth"))
	if err != nil {
		t.Fatal(err)
	}
	b := rewriteZip(t, pth, func(name string, data []byte) []byte {
		if strings.HasSuffix(name, "data.pkl") {
			return []byte(p)
		}
		return data
	})
	_, err = Parse(b)
	if err == nil || !strings.Contains(err.Error(), "want a state dict") {
		t.Fatalf("Parse = %v", err)
	}
}

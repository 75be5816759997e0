package onnx

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/goinception/googlenet/interchange/onnx/internal/pb"
	"google.golang.org/protobuf/proto"
)

// valueTol is the relative tolerance when comparing float32 values read here
// with the float64 values Python wrote to JSON.
const valueTol = 1e-6

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func closeTo(got float32, want float64) bool {
	return math.Abs(float64(got)-want) <= valueTol*math.Max(1, math.Abs(want))
}

func TestReadTorchExport(t *testing.T) {
	m, err := Parse(readFixture(t, "tiny.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	if m.Opset() != 13 || m.ProducerName != "pytorch" {
		t.Errorf("opset %d producer %q", m.Opset(), m.ProducerName)
	}
	g := &m.Graph
	if len(g.Inputs) != 1 || g.Inputs[0].Name != "input" || g.Inputs[0].ElemType != Float {
		t.Fatalf("inputs %+v", g.Inputs)
	}
	wantShape := []Dim{{Value: 1}, {Value: 3}, {Value: 5}, {Value: 5}}
	if !reflect.DeepEqual(g.Inputs[0].Shape, wantShape) {
		t.Errorf("input shape %v, want %v", g.Inputs[0].Shape, wantShape)
	}
	if len(g.Outputs) != 1 || g.Outputs[0].Name != "logits" {
		t.Errorf("outputs %+v", g.Outputs)
	}
	var ops []string
	order, err := g.TopoSort()
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range order {
		ops = append(ops, n.OpType)
	}
	// torch.onnx.export in eval mode folds the batch norm into the conv.
	if want := []string{"Conv", "Relu", "GlobalAveragePool", "Flatten", "Gemm"}; !reflect.DeepEqual(ops, want) {
		t.Errorf("ops %v, want %v", ops, want)
	}
	conv := order[0]
	if k, err := conv.Ints("kernel_shape", nil); err != nil || !reflect.DeepEqual(k, []int64{3, 3}) {
		t.Errorf("kernel_shape %v %v", k, err)
	}
	if p, err := conv.Ints("pads", nil); err != nil || !reflect.DeepEqual(p, []int64{1, 1, 1, 1}) {
		t.Errorf("pads %v %v", p, err)
	}

	var fix struct {
		Expected map[string]struct {
			Shape  []int     `json:"shape"`
			Values []float64 `json:"values"`
		} `json:"expected"`
	}
	if err := json.Unmarshal(readFixture(t, "tiny_logits.json"), &fix); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"fc.weight", "fc.bias"} {
		init, ok := g.Initializer(name)
		if !ok {
			t.Errorf("missing initializer %q", name)
			continue
		}
		want := fix.Expected[name]
		if !reflect.DeepEqual(init.Shape(), want.Shape) {
			t.Errorf("%s shape %v, want %v", name, init.Shape(), want.Shape)
			continue
		}
		for i, v := range want.Values {
			if !closeTo(init.Floats[i], v) {
				t.Errorf("%s[%d] = %v, want %v", name, i, init.Floats[i], v)
			}
		}
	}
	// The conv's weights are the batch-norm fold of the state dict's:
	// w' = w·γ/√(var+ε), b' = (b−mean)·γ/√(var+ε) + β.
	const bnEps = 1e-5
	w, _ := g.Initializer(conv.Inputs[1])
	b, _ := g.Initializer(conv.Inputs[2])
	if w == nil || b == nil {
		t.Fatalf("conv inputs %v are not initializers", conv.Inputs)
	}
	e := func(name string) []float64 { return fix.Expected[name].Values }
	perOut := len(e("conv.weight")) / len(e("conv.bias"))
	for o := range e("conv.bias") {
		scale := e("bn.weight")[o] / math.Sqrt(e("bn.running_var")[o]+bnEps)
		for k := 0; k < perOut; k++ {
			if want := e("conv.weight")[o*perOut+k] * scale; !closeTo(w.Floats[o*perOut+k], want) {
				t.Errorf("folded weight[%d] = %v, want %v", o*perOut+k, w.Floats[o*perOut+k], want)
			}
		}
		if want := (e("conv.bias")[o]-e("bn.running_mean")[o])*scale + e("bn.bias")[o]; math.Abs(float64(b.Floats[o])-want) > 1e-5 {
			t.Errorf("folded bias[%d] = %v, want %v", o, b.Floats[o], want)
		}
	}
	if err := m.CheckFinite(); err != nil {
		t.Error(err)
	}
}

func TestReadModelZooStyle(t *testing.T) {
	m, err := ReadFile(filepath.Join("testdata", "zoo.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	if m.IRVersion != 3 || m.Opset() != 9 {
		t.Errorf("IR %d opset %d", m.IRVersion, m.Opset())
	}
	var want map[string][]float64
	if err := json.Unmarshal(readFixture(t, "zoo_expected.json"), &want); err != nil {
		t.Fatal(err)
	}
	for name, vals := range want {
		init, ok := m.Graph.Initializer(name)
		if !ok {
			t.Fatalf("missing %q", name)
		}
		for i, v := range vals {
			if !closeTo(init.Floats[i], v) {
				t.Errorf("%s[%d] = %v, want %v", name, i, init.Floats[i], v)
			}
		}
	}
	shape, _ := m.Graph.Initializer("shape_0")
	if !reflect.DeepEqual(shape.Ints, []int64{1, -1}) {
		t.Errorf("shape_0 = %v", shape.Ints)
	}
	var pool, lrn *Node
	for _, n := range m.Graph.Nodes {
		switch n.OpType {
		case "MaxPool":
			pool = n
		case "LRN":
			lrn = n
		}
	}
	if p, _ := pool.Ints("pads", nil); !reflect.DeepEqual(p, []int64{0, 0, 1, 1}) {
		t.Errorf("MaxPool pads %v", p)
	}
	if size, _ := lrn.Int("size", 0); size != 5 {
		t.Errorf("LRN size %d", size)
	}
	if beta, _ := lrn.Float("beta", 0); !closeTo(beta, 0.75) {
		t.Errorf("LRN beta %v", beta)
	}
}

func TestRoundTrip(t *testing.T) {
	for _, name := range []string{"tiny.onnx", "zoo.onnx"} {
		t.Run(name, func(t *testing.T) {
			m, err := Parse(readFixture(t, name))
			if err != nil {
				t.Fatal(err)
			}
			b, err := Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			again, err := Parse(b)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(m, again) {
				t.Errorf("model changed in the round trip")
			}
			b2, err := Marshal(again)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b, b2) {
				t.Errorf("Marshal is not deterministic")
			}
			path := filepath.Join(t.TempDir(), "m.onnx")
			if err := WriteFile(path, m); err != nil {
				t.Fatal(err)
			}
			fromFile, err := ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(m, fromFile) {
				t.Errorf("model changed through WriteFile/ReadFile")
			}
		})
	}
}

// chain returns a valid model x -> Relu -> y -> Relu -> z.
func chain() *Model {
	return &Model{
		IRVersion: 8,
		Opsets:    []OpsetImport{{Version: 13}},
		Graph: Graph{
			Name: "chain",
			Nodes: []*Node{
				{Name: "r1", OpType: "Relu", Inputs: []string{"x"}, Outputs: []string{"y"}},
				{Name: "r2", OpType: "Relu", Inputs: []string{"y"}, Outputs: []string{"z"}},
			},
			Inputs:  []ValueInfo{{Name: "x", ElemType: Float, Shape: []Dim{{Value: -1, Param: "N"}, {Value: 4}}}},
			Outputs: []ValueInfo{{Name: "z", ElemType: Float, Shape: []Dim{{Value: -1, Param: "N"}, {Value: 4}}}},
		},
	}
}

func TestValidateRejects(t *testing.T) {
	if err := chain().Validate(); err != nil {
		t.Fatalf("valid chain rejected: %v", err)
	}
	for _, c := range []struct {
		name, want string
		edit       func(m *Model)
	}{
		{"cycle", "cycle through node(s) \"r1\" (Relu), \"r2\" (Relu)", func(m *Model) {
			m.Graph.Nodes[0].Inputs = []string{"z"}
		}},
		{"self loop", "cycle", func(m *Model) {
			m.Graph.Nodes[0].Inputs = []string{"y"}
		}},
		{"missing input", `node "r2" (Relu): input "w"`, func(m *Model) {
			m.Graph.Nodes[1].Inputs = []string{"w"}
		}},
		{"duplicate output", `value "y" is defined twice`, func(m *Model) {
			m.Graph.Nodes[1].Outputs = []string{"y"}
		}},
		{"output shadows input", `value "x" is defined twice`, func(m *Model) {
			m.Graph.Nodes[0].Outputs = []string{"x"}
		}},
		{"unsupported op", `LSTM (node "r2")`, func(m *Model) {
			m.Graph.Nodes[1].OpType = "LSTM"
		}},
		{"custom domain", `com.example.Relu (node "r1")`, func(m *Model) {
			m.Graph.Nodes[0].Domain = "com.example"
		}},
		{"no opset", "operator set", func(m *Model) {
			m.Opsets = nil
		}},
		{"no outputs", "no outputs", func(m *Model) {
			m.Graph.Outputs = nil
		}},
		{"output not produced", `graph output "q"`, func(m *Model) {
			m.Graph.Outputs = []ValueInfo{{Name: "q"}}
		}},
		{"empty op type", "no operator type", func(m *Model) {
			m.Graph.Nodes[0].OpType = ""
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := chain()
			c.edit(m)
			err := m.Validate()
			if err == nil {
				t.Fatal("Validate accepted a bad graph")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q does not mention %q", err, c.want)
			}
		})
	}
}

func TestTopoSortOrdersOutOfOrderNodes(t *testing.T) {
	m := chain()
	m.Graph.Nodes[0], m.Graph.Nodes[1] = m.Graph.Nodes[1], m.Graph.Nodes[0]
	order, err := m.Graph.TopoSort()
	if err != nil {
		t.Fatal(err)
	}
	if order[0].Name != "r1" || order[1].Name != "r2" {
		t.Errorf("order %s, %s", order[0].Name, order[1].Name)
	}
}

func marshalPB(t *testing.T, p *pb.ModelProto) []byte {
	t.Helper()
	b, err := proto.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// withInit returns a serialized valid model whose only initializer is init.
func withInit(t *testing.T, init *pb.TensorProto) []byte {
	return marshalPB(t, &pb.ModelProto{
		IrVersion:   proto.Int64(8),
		OpsetImport: []*pb.OperatorSetIdProto{{Version: proto.Int64(13)}},
		Graph:       &pb.GraphProto{Initializer: []*pb.TensorProto{init}},
	})
}

func TestParseRejects(t *testing.T) {
	f32 := proto.Int32(int32(Float))
	for _, c := range []struct {
		name, want string
		b          []byte
	}{
		{"garbage", "not a valid ModelProto", []byte("\xff\xff\xff\xff")},
		{"empty", "no graph", nil},
		{"wrong magic (a zip file)", "", []byte("PK\x03\x04\x14\x00\x00\x00")},
		{"raw_data too short", "needs 12 bytes of raw_data, has 8", withInit(t, &pb.TensorProto{Name: proto.String("w"), DataType: f32, Dims: []int64{3}, RawData: make([]byte, 8)})},
		{"float_data count", "needs 4 values, has 3", withInit(t, &pb.TensorProto{Name: proto.String("w"), DataType: f32, Dims: []int64{2, 2}, FloatData: []float32{1, 2, 3}})},
		{"negative dim", "negative dimension", withInit(t, &pb.TensorProto{Name: proto.String("w"), DataType: f32, Dims: []int64{-2}})},
		{"huge dims", "too many elements", withInit(t, &pb.TensorProto{Name: proto.String("w"), DataType: f32, Dims: []int64{1 << 40, 1 << 40}})},
		{"external data", "external data", withInit(t, &pb.TensorProto{Name: proto.String("w"), DataType: f32, Dims: []int64{1}, DataLocation: proto.Int32(1)})},
		{"string tensor", "unsupported data type STRING", withInit(t, &pb.TensorProto{Name: proto.String("w"), DataType: proto.Int32(int32(String)), Dims: []int64{1}})},
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

func TestTruncatedFilesFail(t *testing.T) {
	b := readFixture(t, "tiny.onnx")
	for n := 0; n < len(b); n++ {
		m, err := Parse(b[:n])
		if err == nil {
			err = m.Validate()
		}
		if err == nil {
			t.Fatalf("tiny.onnx truncated to %d of %d bytes parsed and validated", n, len(b))
		}
	}
}

func TestTypedDataAndHalfs(t *testing.T) {
	m, err := Parse(withInit(t, &pb.TensorProto{Name: proto.String("h"), DataType: proto.Int32(int32(Float16)), Dims: []int64{3}, Int32Data: []int32{0x3c00, 0xc100, 0x0001}}))
	if err != nil {
		t.Fatal(err)
	}
	h := m.Graph.Initializers[0]
	if want := []float32{1, -2.5, 5.9604645e-08}; !reflect.DeepEqual(h.Floats, want) {
		t.Errorf("FLOAT16 int32_data = %v, want %v", h.Floats, want)
	}
	m, err = Parse(withInit(t, &pb.TensorProto{Name: proto.String("d"), DataType: proto.Int32(int32(Double)), Dims: []int64{2}, DoubleData: []float64{0.5, -3}}))
	if err != nil {
		t.Fatal(err)
	}
	if want := []float32{0.5, -3}; !reflect.DeepEqual(m.Graph.Initializers[0].Floats, want) {
		t.Errorf("DOUBLE = %v", m.Graph.Initializers[0].Floats)
	}
	if _, err := Marshal(m); err == nil || !strings.Contains(err.Error(), "only FLOAT and INT64") {
		t.Errorf("Marshal of a DOUBLE tensor: %v", err)
	}
}

func TestAttributeAccessors(t *testing.T) {
	n := &Node{Name: "p", OpType: "MaxPool", Attrs: []Attribute{
		{Name: "kernel_shape", Type: AttrInts, Ints: []int64{3, 3}},
		{Name: "ceil_mode", Type: AttrInt, I: 1},
		{Name: "auto_pad", Type: AttrString, S: "NOTSET"},
	}}
	if v, err := n.Int("ceil_mode", 0); err != nil || v != 1 {
		t.Errorf("ceil_mode %v %v", v, err)
	}
	if v, err := n.Int("storage_order", 0); err != nil || v != 0 {
		t.Errorf("default %v %v", v, err)
	}
	if v, err := n.String("auto_pad", ""); err != nil || v != "NOTSET" {
		t.Errorf("auto_pad %v %v", v, err)
	}
	if _, err := n.Int("kernel_shape", 0); err == nil || !strings.Contains(err.Error(), `attribute "kernel_shape" is INTS, want INT`) {
		t.Errorf("wrong-type error: %v", err)
	}
	if _, err := n.Tensor("value"); err == nil {
		t.Error("missing tensor attribute accepted")
	}
}

func TestCheckFinite(t *testing.T) {
	m := chain()
	m.Graph.Initializers = []*Tensor{{Name: "w", DataType: Float, Dims: []int64{2}, Floats: []float32{1, float32(math.NaN())}}}
	err := m.CheckFinite()
	if err == nil || !strings.Contains(err.Error(), `"w"`) || !strings.Contains(err.Error(), "index 1") {
		t.Fatalf("CheckFinite = %v", err)
	}
}

func FuzzONNX(f *testing.F) {
	f.Add(readFixture(f, "tiny.onnx"))
	f.Add(readFixture(f, "zoo.onnx"))
	b, err := Marshal(chain())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Parse(b)
		if err != nil {
			return
		}
		m.Validate()
		m.CheckFinite()
		for _, n := range m.Graph.Nodes {
			for _, a := range n.Attrs {
				n.Int(a.Name, 0)
				n.Ints(a.Name, nil)
				n.Tensor(a.Name)
			}
		}
		out, err := Marshal(m)
		if err != nil {
			return // e.g. tensor types the writer does not produce
		}
		if _, err := Parse(out); err != nil {
			t.Fatalf("re-parsing marshalled model: %v", err)
		}
	})
}

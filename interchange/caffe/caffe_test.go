package caffe

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/goinception/googlenet/inception"
	"github.com/goinception/googlenet/interchange/caffe/internal/pb"
)

// netProto writes a model's parameters as a Caffe network with Caffe's
// layer names and types (the inverse of ImportGoogLeNet), in the current or
// the legacy form.
func netProto(t testing.TB, m *inception.Model, legacy bool) *pb.NetParameter {
	t.Helper()
	np := &pb.NetParameter{Name: proto.String("GoogleNet")}
	for _, p := range m.Params() {
		i := strings.LastIndexByte(p.Name, '/')
		layer, kind := p.Name[:i], p.Name[i+1:]
		data := append([]float32(nil), p.Value.Data().([]float32)...)
		b := &pb.BlobProto{Data: data}
		if legacy {
			s := append([]int{1, 1, 1, 1}, p.Shape...)[len(p.Shape):]
			b.Num, b.Channels, b.Height, b.Width = proto.Int32(int32(s[0])), proto.Int32(int32(s[1])), proto.Int32(int32(s[2])), proto.Int32(int32(s[3]))
		} else {
			b.Shape = &pb.BlobShape{}
			for _, d := range p.Shape {
				b.Shape.Dim = append(b.Shape.Dim, int64(d))
			}
		}
		if kind == "b" {
			if legacy {
				np.Layers[len(np.Layers)-1].Blobs = append(np.Layers[len(np.Layers)-1].Blobs, b)
			} else {
				np.Layer[len(np.Layer)-1].Blobs = append(np.Layer[len(np.Layer)-1].Blobs, b)
			}
			continue
		}
		var cp *pb.ConvolutionParameter
		typ, v1 := "InnerProduct", pb.V1LayerParameter_INNER_PRODUCT
		if len(p.Shape) == 4 {
			typ, v1 = "Convolution", pb.V1LayerParameter_CONVOLUTION
			k := uint32(p.Shape[2])
			cp = &pb.ConvolutionParameter{NumOutput: proto.Uint32(uint32(p.Shape[0])), KernelSize: []uint32{k}, Pad: []uint32{(k - 1) / 2}}
			if layer == "conv1/7x7_s2" {
				cp.Stride, cp.Pad = []uint32{2}, []uint32{3}
			}
		}
		if legacy {
			np.Layers = append(np.Layers, &pb.V1LayerParameter{Name: proto.String(layer), Type: v1.Enum(), Blobs: []*pb.BlobProto{b}, ConvolutionParam: cp})
		} else {
			np.Layer = append(np.Layer, &pb.LayerParameter{Name: proto.String(layer), Type: proto.String(typ), Blobs: []*pb.BlobProto{b}, ConvolutionParam: cp})
		}
	}
	return np
}

func paperModel(t testing.TB, input int) *inception.Model {
	t.Helper()
	cfg := inception.Paper()
	cfg.BatchSize, cfg.InputSize, cfg.Seed = 1, input, 5
	m, err := inception.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestRoundTripBothForms(t *testing.T) {
	m := paperModel(t, 224)
	for _, legacy := range []bool{false, true} {
		b, err := proto.Marshal(netProto(t, m, legacy))
		if err != nil {
			t.Fatal(err)
		}
		n, err := Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ImportGoogLeNet(n, Options{})
		if err != nil {
			t.Fatalf("legacy %v: %v", legacy, err)
		}
		if len(got.Config().Table) == 0 || got.Config().Classes != 1000 {
			t.Fatalf("config %+v", got.Config())
		}
		want := m.Params()
		for i, p := range got.Params() {
			a, b := p.Value.Data().([]float32), want[i].Value.Data().([]float32)
			for j := range a {
				if a[j] != b[j] {
					t.Fatalf("legacy %v: %s[%d] = %v, want %v", legacy, p.Name, j, a[j], b[j])
				}
			}
		}
	}
}

// encode marshals np, failing the test on error.
func encode(t testing.TB, np *pb.NetParameter) []byte {
	t.Helper()
	b, err := proto.Marshal(np)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestMalformedFiles(t *testing.T) {
	m := paperModel(t, 224)
	good := encode(t, netProto(t, m, false))
	cases := []struct {
		name string
		b    []byte
		want string
	}{
		{"empty", nil, "no layers"},
		{"truncated", good[:len(good)/2], "not a Caffe NetParameter"},
		{"wrong field type (layer as varint: skipped as unknown)", []byte{0xa0, 0x06, 0x01}, "no layers"},
		{"huge length", []byte{0xa2, 0x06, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01}, "not a Caffe NetParameter"},
		{"text instead of binary", []byte("name: \"GoogleNet\"\nlayer { name: \"x\" }\n"), "not a Caffe NetParameter"},
	}
	mutate := func(name, want string, f func(np *pb.NetParameter)) {
		np := netProto(t, m, false)
		f(np)
		cases = append(cases, struct {
			name string
			b    []byte
			want string
		}{name, encode(t, np), want})
	}
	mutate("blob data shorter than its shape", "holds", func(np *pb.NetParameter) { np.Layer[0].Blobs[0].Data = np.Layer[0].Blobs[0].Data[:5] })
	mutate("NaN", "NaN", func(np *pb.NetParameter) { np.Layer[3].Blobs[1].Data[0] = float32(math.NaN()) })
	mutate("negative dimension", "dimension", func(np *pb.NetParameter) { np.Layer[2].Blobs[0].Shape.Dim[0] = -3 })
	mutate("huge dimensions", "over", func(np *pb.NetParameter) { np.Layer[2].Blobs[0].Shape.Dim = []int64{1 << 20, 1 << 20, 1 << 20} })
	mutate("duplicate names", "two layers", func(np *pb.NetParameter) { np.Layer[1].Name = np.Layer[0].Name })
	mutate("both forms", "both", func(np *pb.NetParameter) { np.Layers = []*pb.V1LayerParameter{{Name: proto.String("x")}} })
	for _, c := range cases {
		_, err := Decode(c.b)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error containing %q", c.name, err, c.want)
		}
	}
	// Well-formed files that are not (this) GoogLeNet.
	imports := []struct {
		name, want string
		f          func(np *pb.NetParameter)
	}{
		{"missing blobs", "lacks", func(np *pb.NetParameter) { np.Layer[5].Blobs = np.Layer[5].Blobs[:1] }},
		{"missing layer", "lacks 2 parameters: inception_4c/5x5/b; inception_4c/5x5/w", func(np *pb.NetParameter) {
			for i, l := range np.Layer {
				if l.GetName() == "inception_4c/5x5" {
					np.Layer = append(np.Layer[:i], np.Layer[i+1:]...)
					return
				}
			}
		}},
		{"extra layer", "does not use", func(np *pb.NetParameter) {
			np.Layer = append(np.Layer, &pb.LayerParameter{Name: proto.String("extra/fc"), Type: proto.String("InnerProduct"),
				Blobs: []*pb.BlobProto{{Shape: &pb.BlobShape{Dim: []int64{2}}, Data: []float32{1, 2}}}})
		}},
		{"wrong shape", "want [192 64 3 3]", func(np *pb.NetParameter) { np.Layer[2].Blobs[0].Shape.Dim = []int64{192, 64, 9, 1} }},
		{"stride", "stride", func(np *pb.NetParameter) { np.Layer[2].ConvolutionParam.Stride = []uint32{2} }},
		{"groups", "group", func(np *pb.NetParameter) { np.Layer[2].ConvolutionParam.Group = proto.Uint32(2) }},
		{"no classifier", "not a GoogLeNet", func(np *pb.NetParameter) { np.Layer = np.Layer[:3] }},
		{"unknown layer type", "not part of GoogLeNet", func(np *pb.NetParameter) {
			np.Layer = append(np.Layer, &pb.LayerParameter{Name: proto.String("bn"), Type: proto.String("BatchNorm")})
		}},
	}
	for _, c := range imports {
		np := netProto(t, m, false)
		c.f(np)
		n, err := Decode(encode(t, np))
		if err == nil {
			_, err = ImportGoogLeNet(n, Options{})
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error containing %q", c.name, err, c.want)
		}
	}
}

func TestPrototxt(t *testing.T) {
	txt := `name: "GoogleNet"
layer { name: "data" type: "Input" top: "data" input_param { shape: { dim: 10 dim: 3 dim: 224 dim: 224 } } }
layer { name: "conv1/7x7_s2" type: "Convolution" bottom: "data" top: "conv1/7x7_s2"
  param { lr_mult: 1 decay_mult: 1 }
  convolution_param { num_output: 64 pad: 3 kernel_size: 7 stride: 2 weight_filler { type: "xavier" std: 0.1 } } }
layer { name: "pool1/norm1" type: "LRN" bottom: "pool1/3x3_s2" top: "pool1/norm1" lrn_param { local_size: 5 alpha: 0.0001 beta: 0.75 } }
layer { name: "pool1/3x3_s2" type: "Pooling" bottom: "x" top: "y" pooling_param { pool: MAX kernel_size: 3 stride: 2 } }
`
	n, err := ParsePrototxt([]byte(txt))
	if err != nil {
		t.Fatal(err)
	}
	if err := checkStructure(n); err != nil {
		t.Fatal(err)
	}
	if c := n.Layer("conv1/7x7_s2").Conv; c.Kernel != 7 || c.Stride != 2 || c.Pad != 3 || c.NumOutput != 64 {
		t.Errorf("conv %+v", c)
	}
	bad := strings.Replace(txt, "stride: 2 weight", "stride: 1 weight", 1)
	if n, err = ParsePrototxt([]byte(bad)); err != nil {
		t.Fatal(err)
	}
	if err := checkStructure(n); err == nil || !strings.Contains(err.Error(), "conv1/7x7_s2") {
		t.Errorf("stride 1 conv1: %v", err)
	}
	if _, err := ParsePrototxt([]byte("layer { name: ")); err == nil {
		t.Error("malformed prototxt accepted")
	}
	p := filepath.Join(t.TempDir(), "deploy.prototxt")
	if err := os.WriteFile(p, []byte(txt), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadPrototxt(p); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadFile(filepath.Join(t.TempDir(), "none.caffemodel")); err == nil {
		t.Error("missing file read")
	}
}

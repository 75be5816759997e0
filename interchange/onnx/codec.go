package onnx

import (
	"encoding/binary"
	"io"
	"math"
	"math/bits"
	"os"
	"strconv"

	"github.com/goinception/googlenet/interchange/onnx/internal/pb"
	"github.com/goinception/googlenet/internal/atomicfile"
	"github.com/pkg/errors"
	"google.golang.org/protobuf/proto"
)

// maxElements bounds the element count of one tensor (8 GiB of float32).
const maxElements = 1 << 31

// ReadFile reads and parses the ONNX model at path.
func ReadFile(path string) (*Model, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, errors.Wrap(err, "onnx")
	}
	m, err := Parse(b)
	if err != nil {
		return nil, errors.Wrapf(err, "%s", path)
	}
	return m, nil
}

// Parse decodes a serialized ModelProto. It checks the encoding and each
// tensor's data against its type and dims; use Validate for the graph's
// structure.
func Parse(b []byte) (*Model, error) {
	var p pb.ModelProto
	if err := proto.Unmarshal(b, &p); err != nil {
		return nil, errors.Wrap(err, "onnx: not a valid ModelProto")
	}
	if p.Graph == nil {
		return nil, errors.New("onnx: model has no graph (not an ONNX model?)")
	}
	m := &Model{
		IRVersion:       p.GetIrVersion(),
		ProducerName:    p.GetProducerName(),
		ProducerVersion: p.GetProducerVersion(),
		Domain:          p.GetDomain(),
		ModelVersion:    p.GetModelVersion(),
		DocString:       p.GetDocString(),
	}
	for _, o := range p.OpsetImport {
		m.Opsets = append(m.Opsets, OpsetImport{Domain: o.GetDomain(), Version: o.GetVersion()})
	}
	if len(p.MetadataProps) > 0 {
		m.Metadata = map[string]string{}
		for _, kv := range p.MetadataProps {
			m.Metadata[kv.GetKey()] = kv.GetValue()
		}
	}
	g, err := graphFromPB(p.Graph)
	if err != nil {
		return nil, err
	}
	m.Graph = *g
	return m, nil
}

func graphFromPB(p *pb.GraphProto) (*Graph, error) {
	g := &Graph{Name: p.GetName()}
	for _, t := range p.Initializer {
		tt, err := tensorFromPB(t)
		if err != nil {
			return nil, errors.Wrapf(err, "onnx: initializer %q", t.GetName())
		}
		g.Initializers = append(g.Initializers, tt)
	}
	for i, n := range p.Node {
		node := &Node{
			Name:    n.GetName(),
			OpType:  n.GetOpType(),
			Domain:  n.GetDomain(),
			Inputs:  n.Input,
			Outputs: n.Output,
		}
		if node.Name == "" {
			node.Name = fmtNodeName(i, node.OpType)
		}
		for _, a := range n.Attribute {
			attr, err := attrFromPB(a)
			if err != nil {
				return nil, errors.Wrapf(err, "onnx: node %q (%s): attribute %q", node.Name, node.OpType, a.GetName())
			}
			node.Attrs = append(node.Attrs, attr)
		}
		g.Nodes = append(g.Nodes, node)
	}
	var err error
	if g.Inputs, err = valueInfosFromPB(p.Input); err != nil {
		return nil, errors.Wrap(err, "onnx: graph input")
	}
	if g.Outputs, err = valueInfosFromPB(p.Output); err != nil {
		return nil, errors.Wrap(err, "onnx: graph output")
	}
	if g.ValueInfo, err = valueInfosFromPB(p.ValueInfo); err != nil {
		return nil, errors.Wrap(err, "onnx: value_info")
	}
	return g, nil
}

// fmtNodeName names an unnamed node by its position, so errors can point
// at it.
func fmtNodeName(i int, op string) string {
	return "#" + strconv.Itoa(i) + ":" + op
}

func valueInfosFromPB(vs []*pb.ValueInfoProto) ([]ValueInfo, error) {
	var out []ValueInfo
	for _, v := range vs {
		vi := ValueInfo{Name: v.GetName()}
		if tt := v.GetType().GetTensorType(); tt != nil {
			vi.ElemType = DataType(tt.GetElemType())
			if s := tt.Shape; s != nil {
				vi.Shape = []Dim{}
				for _, d := range s.Dim {
					switch x := d.Value.(type) {
					case *pb.TensorShapeProto_Dimension_DimValue:
						if x.DimValue < 0 {
							return nil, errors.Errorf("%q: negative dimension %d", vi.Name, x.DimValue)
						}
						vi.Shape = append(vi.Shape, Dim{Value: x.DimValue})
					case *pb.TensorShapeProto_Dimension_DimParam:
						vi.Shape = append(vi.Shape, Dim{Value: -1, Param: x.DimParam})
					default:
						vi.Shape = append(vi.Shape, Dim{Value: -1})
					}
				}
			}
		}
		out = append(out, vi)
	}
	return out, nil
}

func attrFromPB(a *pb.AttributeProto) (Attribute, error) {
	attr := Attribute{
		Name:   a.GetName(),
		Type:   AttrType(a.GetType()),
		F:      a.GetF(),
		I:      a.GetI(),
		S:      string(a.GetS()),
		Floats: a.Floats,
		Ints:   a.Ints,
	}
	if a.RefAttrName != nil {
		return attr, errors.New("attribute references (functions) are not supported")
	}
	for _, s := range a.Strings {
		attr.Strings = append(attr.Strings, string(s))
	}
	if a.T != nil {
		t, err := tensorFromPB(a.T)
		if err != nil {
			return attr, err
		}
		attr.T = t
	}
	for _, tp := range a.Tensors {
		t, err := tensorFromPB(tp)
		if err != nil {
			return attr, err
		}
		attr.Tensors = append(attr.Tensors, t)
	}
	if attr.Type == AttrUndefined {
		// IR version 1 files omit the type; infer it from the field set.
		switch {
		case a.F != nil:
			attr.Type = AttrFloat
		case a.I != nil:
			attr.Type = AttrInt
		case a.S != nil:
			attr.Type = AttrString
		case a.T != nil:
			attr.Type = AttrTensor
		case a.G != nil:
			attr.Type = AttrGraph
		case len(a.Floats) > 0:
			attr.Type = AttrFloats
		case len(a.Ints) > 0:
			attr.Type = AttrInts
		case len(a.Strings) > 0:
			attr.Type = AttrStrings
		case len(a.Tensors) > 0:
			attr.Type = AttrTensors
		case len(a.Graphs) > 0:
			attr.Type = AttrGraphs
		}
	}
	if _, known := attrTypeNames[attr.Type]; !known {
		return attr, errors.Errorf("unsupported attribute type %s", attr.Type)
	}
	return attr, nil
}

// elemSize returns the size in bytes of one element in raw_data, or 0.
func elemSize(d DataType) int {
	switch d {
	case Double, Int64, Uint64:
		return 8
	case Float, Int32, Uint32:
		return 4
	case Float16, BFloat16, Int16, Uint16:
		return 2
	case Int8, Uint8, Bool:
		return 1
	}
	return 0
}

func tensorFromPB(p *pb.TensorProto) (*Tensor, error) {
	t := &Tensor{Name: p.GetName(), DataType: DataType(p.GetDataType()), Dims: p.Dims}
	if t.Dims == nil {
		t.Dims = []int64{}
	}
	if p.GetDataLocation() != 0 || len(p.ExternalData) > 0 {
		return nil, errors.New("external data is not supported; save the model with its weights inside the .onnx file")
	}
	size := elemSize(t.DataType)
	if size == 0 {
		return nil, errors.Errorf("unsupported data type %s", t.DataType)
	}
	n := uint64(1)
	for _, d := range t.Dims {
		if d < 0 {
			return nil, errors.Errorf("negative dimension in %v", t.Dims)
		}
		hi, lo := bits.Mul64(n, uint64(d))
		if hi != 0 || lo > maxElements {
			return nil, errors.Errorf("dims %v hold too many elements", t.Dims)
		}
		n = lo
	}
	le := binary.LittleEndian
	if p.RawData != nil {
		raw := p.RawData
		if uint64(len(raw)) != n*uint64(size) {
			return nil, errors.Errorf("%s %v needs %d bytes of raw_data, has %d", t.DataType, t.Dims, n*uint64(size), len(raw))
		}
		if t.DataType.IsFloat() {
			t.Floats = make([]float32, n)
		} else {
			t.Ints = make([]int64, n)
		}
		for i := 0; i < int(n); i++ {
			b := raw[i*size:]
			switch t.DataType {
			case Float:
				t.Floats[i] = math.Float32frombits(le.Uint32(b))
			case Double:
				t.Floats[i] = float32(math.Float64frombits(le.Uint64(b)))
			case Float16:
				t.Floats[i] = halfToFloat32(le.Uint16(b))
			case BFloat16:
				t.Floats[i] = math.Float32frombits(uint32(le.Uint16(b)) << 16)
			case Int64, Uint64:
				t.Ints[i] = int64(le.Uint64(b))
			case Int32:
				t.Ints[i] = int64(int32(le.Uint32(b)))
			case Uint32:
				t.Ints[i] = int64(le.Uint32(b))
			case Int16:
				t.Ints[i] = int64(int16(le.Uint16(b)))
			case Uint16:
				t.Ints[i] = int64(le.Uint16(b))
			case Int8:
				t.Ints[i] = int64(int8(b[0]))
			case Uint8, Bool:
				t.Ints[i] = int64(b[0])
			}
		}
		return t, nil
	}
	// Typed fields, as onnx.proto assigns them to each data type.
	count := func(have int) error {
		if uint64(have) != n {
			return errors.Errorf("%s %v needs %d values, has %d", t.DataType, t.Dims, n, have)
		}
		return nil
	}
	switch t.DataType {
	case Float:
		if err := count(len(p.FloatData)); err != nil {
			return nil, err
		}
		t.Floats = append([]float32{}, p.FloatData...)
	case Double:
		if err := count(len(p.DoubleData)); err != nil {
			return nil, err
		}
		t.Floats = make([]float32, n)
		for i, v := range p.DoubleData {
			t.Floats[i] = float32(v)
		}
	case Float16, BFloat16:
		if err := count(len(p.Int32Data)); err != nil {
			return nil, err
		}
		t.Floats = make([]float32, n)
		for i, v := range p.Int32Data {
			if t.DataType == Float16 {
				t.Floats[i] = halfToFloat32(uint16(v))
			} else {
				t.Floats[i] = math.Float32frombits(uint32(uint16(v)) << 16)
			}
		}
	case Int64:
		if err := count(len(p.Int64Data)); err != nil {
			return nil, err
		}
		t.Ints = append([]int64{}, p.Int64Data...)
	case Int32, Int16, Int8, Uint16, Uint8, Bool:
		if err := count(len(p.Int32Data)); err != nil {
			return nil, err
		}
		t.Ints = make([]int64, n)
		for i, v := range p.Int32Data {
			t.Ints[i] = int64(v)
		}
	case Uint32, Uint64:
		if err := count(len(p.Uint64Data)); err != nil {
			return nil, err
		}
		t.Ints = make([]int64, n)
		for i, v := range p.Uint64Data {
			t.Ints[i] = int64(v)
		}
	}
	return t, nil
}

// halfToFloat32 converts an IEEE 754 binary16 value to float32 exactly.
func halfToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f:
		return math.Float32frombits(sign | 0xff<<23 | mant<<13)
	case exp == 0 && mant == 0:
		return math.Float32frombits(sign)
	case exp == 0:
		e := uint32(127 - 15 + 1)
		for mant&0x400 == 0 {
			mant <<= 1
			e--
		}
		return math.Float32frombits(sign | e<<23 | (mant&0x3ff)<<13)
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
}

// Marshal encodes the model as a serialized ModelProto. Tensors are written
// as raw_data: FLOAT tensors from Floats, INT64 tensors from Ints; other
// data types are an error. Marshal does not validate the graph; call
// Validate first when exporting.
func Marshal(m *Model) ([]byte, error) {
	p := &pb.ModelProto{
		IrVersion:       proto.Int64(m.IRVersion),
		ProducerName:    optString(m.ProducerName),
		ProducerVersion: optString(m.ProducerVersion),
		Domain:          optString(m.Domain),
		DocString:       optString(m.DocString),
	}
	if m.ModelVersion != 0 {
		p.ModelVersion = proto.Int64(m.ModelVersion)
	}
	for _, o := range m.Opsets {
		p.OpsetImport = append(p.OpsetImport, &pb.OperatorSetIdProto{Domain: proto.String(o.Domain), Version: proto.Int64(o.Version)})
	}
	for _, k := range sortedKeys(m.Metadata) {
		p.MetadataProps = append(p.MetadataProps, &pb.StringStringEntryProto{Key: proto.String(k), Value: proto.String(m.Metadata[k])})
	}
	g, err := graphToPB(&m.Graph)
	if err != nil {
		return nil, err
	}
	p.Graph = g
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(p)
	if err != nil {
		return nil, errors.Wrap(err, "onnx: encoding model")
	}
	return b, nil
}

// WriteFile marshals the model and writes it to path atomically.
func WriteFile(path string, m *Model) error {
	b, err := Marshal(m)
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(path, 0o644, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
}

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return proto.String(s)
}

func graphToPB(g *Graph) (*pb.GraphProto, error) {
	p := &pb.GraphProto{Name: optString(g.Name)}
	for _, t := range g.Initializers {
		tp, err := tensorToPB(t)
		if err != nil {
			return nil, errors.Wrapf(err, "onnx: initializer %q", t.Name)
		}
		p.Initializer = append(p.Initializer, tp)
	}
	for _, n := range g.Nodes {
		np := &pb.NodeProto{
			Input:  n.Inputs,
			Output: n.Outputs,
			Name:   optString(n.Name),
			OpType: proto.String(n.OpType),
			Domain: optString(n.Domain),
		}
		for _, a := range n.Attrs {
			ap, err := attrToPB(a)
			if err != nil {
				return nil, errors.Wrapf(err, "onnx: node %q (%s): attribute %q", n.Name, n.OpType, a.Name)
			}
			np.Attribute = append(np.Attribute, ap)
		}
		p.Node = append(p.Node, np)
	}
	p.Input = valueInfosToPB(g.Inputs)
	p.Output = valueInfosToPB(g.Outputs)
	p.ValueInfo = valueInfosToPB(g.ValueInfo)
	return p, nil
}

func valueInfosToPB(vs []ValueInfo) []*pb.ValueInfoProto {
	var out []*pb.ValueInfoProto
	for _, v := range vs {
		tt := &pb.TypeProto_Tensor{ElemType: proto.Int32(int32(v.ElemType))}
		if v.Shape != nil {
			tt.Shape = &pb.TensorShapeProto{}
			for _, d := range v.Shape {
				dp := &pb.TensorShapeProto_Dimension{}
				switch {
				case d.Param != "":
					dp.Value = &pb.TensorShapeProto_Dimension_DimParam{DimParam: d.Param}
				case d.Value >= 0:
					dp.Value = &pb.TensorShapeProto_Dimension_DimValue{DimValue: d.Value}
				}
				tt.Shape.Dim = append(tt.Shape.Dim, dp)
			}
		}
		out = append(out, &pb.ValueInfoProto{
			Name: proto.String(v.Name),
			Type: &pb.TypeProto{Value: &pb.TypeProto_TensorType{TensorType: tt}},
		})
	}
	return out
}

func attrToPB(a Attribute) (*pb.AttributeProto, error) {
	p := &pb.AttributeProto{Name: proto.String(a.Name), Type: pb.AttributeProto_AttributeType(a.Type).Enum()}
	switch a.Type {
	case AttrFloat:
		p.F = proto.Float32(a.F)
	case AttrInt:
		p.I = proto.Int64(a.I)
	case AttrString:
		p.S = []byte(a.S)
	case AttrTensor:
		if a.T == nil {
			return nil, errors.New("TENSOR attribute without a tensor")
		}
		t, err := tensorToPB(a.T)
		if err != nil {
			return nil, err
		}
		p.T = t
	case AttrFloats:
		p.Floats = a.Floats
	case AttrInts:
		p.Ints = a.Ints
	case AttrStrings:
		for _, s := range a.Strings {
			p.Strings = append(p.Strings, []byte(s))
		}
	case AttrTensors:
		for _, t := range a.Tensors {
			tp, err := tensorToPB(t)
			if err != nil {
				return nil, err
			}
			p.Tensors = append(p.Tensors, tp)
		}
	default:
		return nil, errors.Errorf("cannot write attributes of type %s", a.Type)
	}
	return p, nil
}

func tensorToPB(t *Tensor) (*pb.TensorProto, error) {
	n := uint64(1)
	for _, d := range t.Dims {
		if d < 0 {
			return nil, errors.Errorf("negative dimension in %v", t.Dims)
		}
		hi, lo := bits.Mul64(n, uint64(d))
		if hi != 0 || lo > maxElements {
			return nil, errors.Errorf("dims %v hold too many elements", t.Dims)
		}
		n = lo
	}
	p := &pb.TensorProto{Name: optString(t.Name), Dims: t.Dims, DataType: proto.Int32(int32(t.DataType))}
	le := binary.LittleEndian
	switch t.DataType {
	case Float:
		if uint64(len(t.Floats)) != n || t.Ints != nil {
			return nil, errors.Errorf("FLOAT %v needs %d Floats, has %d", t.Dims, n, len(t.Floats))
		}
		p.RawData = make([]byte, 4*n)
		for i, v := range t.Floats {
			le.PutUint32(p.RawData[4*i:], math.Float32bits(v))
		}
	case Int64:
		if uint64(len(t.Ints)) != n || t.Floats != nil {
			return nil, errors.Errorf("INT64 %v needs %d Ints, has %d", t.Dims, n, len(t.Ints))
		}
		p.RawData = make([]byte, 8*n)
		for i, v := range t.Ints {
			le.PutUint64(p.RawData[8*i:], uint64(v))
		}
	default:
		return nil, errors.Errorf("cannot write tensors of type %s (only FLOAT and INT64)", t.DataType)
	}
	return p, nil
}

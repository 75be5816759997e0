package onnx

import (
	"fmt"
	"math"

	"github.com/pkg/errors"
)

// DataType is an ONNX tensor element type (TensorProto.DataType).
type DataType int32

// Element types, numbered as in onnx.proto.
const (
	Undefined DataType = 0
	Float     DataType = 1
	Uint8     DataType = 2
	Int8      DataType = 3
	Uint16    DataType = 4
	Int16     DataType = 5
	Int32     DataType = 6
	Int64     DataType = 7
	String    DataType = 8
	Bool      DataType = 9
	Float16   DataType = 10
	Double    DataType = 11
	Uint32    DataType = 12
	Uint64    DataType = 13
	BFloat16  DataType = 16
)

var dataTypeNames = map[DataType]string{
	Undefined: "UNDEFINED", Float: "FLOAT", Uint8: "UINT8", Int8: "INT8", Uint16: "UINT16",
	Int16: "INT16", Int32: "INT32", Int64: "INT64", String: "STRING", Bool: "BOOL",
	Float16: "FLOAT16", Double: "DOUBLE", Uint32: "UINT32", Uint64: "UINT64", BFloat16: "BFLOAT16",
}

func (d DataType) String() string {
	if s, ok := dataTypeNames[d]; ok {
		return s
	}
	return fmt.Sprintf("DataType(%d)", int32(d))
}

// IsFloat reports whether d is a floating-point type, read into
// Tensor.Floats.
func (d DataType) IsFloat() bool {
	return d == Float || d == Double || d == Float16 || d == BFloat16
}

// IsInt reports whether d is an integer or boolean type, read into
// Tensor.Ints.
func (d DataType) IsInt() bool {
	switch d {
	case Uint8, Int8, Uint16, Int16, Int32, Int64, Bool, Uint32, Uint64:
		return true
	}
	return false
}

// Tensor is a dense tensor: an initializer or a Constant's value. Exactly one
// of Floats (floating-point DataType, converted to float32) and Ints
// (integer DataType) holds the NumElements() values in row-major order.
type Tensor struct {
	Name     string
	DataType DataType
	Dims     []int64
	Floats   []float32
	Ints     []int64
}

// NumElements returns the product of Dims (1 for a scalar).
func (t *Tensor) NumElements() int64 {
	n := int64(1)
	for _, d := range t.Dims {
		n *= d
	}
	return n
}

// Shape returns Dims as ints.
func (t *Tensor) Shape() []int {
	s := make([]int, len(t.Dims))
	for i, d := range t.Dims {
		s[i] = int(d)
	}
	return s
}

func (t *Tensor) String() string {
	return fmt.Sprintf("%s %s %v", t.Name, t.DataType, t.Dims)
}

// Dim is one dimension of a value's shape: a fixed size (Param == "") or a
// symbolic name such as "batch_size". Value is -1 when the dimension is
// symbolic or unknown.
type Dim struct {
	Value int64
	Param string
}

func (d Dim) String() string {
	if d.Param != "" {
		return d.Param
	}
	if d.Value < 0 {
		return "?"
	}
	return fmt.Sprint(d.Value)
}

// ValueInfo describes a graph input or output: its name, element type and
// shape. Shape is nil when the file gives no shape (unknown rank).
type ValueInfo struct {
	Name     string
	ElemType DataType
	Shape    []Dim
}

// AttrType is the type of an attribute's value (AttributeProto.AttributeType).
type AttrType int32

// Attribute types, numbered as in onnx.proto.
const (
	AttrUndefined AttrType = 0
	AttrFloat     AttrType = 1
	AttrInt       AttrType = 2
	AttrString    AttrType = 3
	AttrTensor    AttrType = 4
	AttrGraph     AttrType = 5
	AttrFloats    AttrType = 6
	AttrInts      AttrType = 7
	AttrStrings   AttrType = 8
	AttrTensors   AttrType = 9
	AttrGraphs    AttrType = 10
)

var attrTypeNames = map[AttrType]string{
	AttrUndefined: "UNDEFINED", AttrFloat: "FLOAT", AttrInt: "INT", AttrString: "STRING",
	AttrTensor: "TENSOR", AttrGraph: "GRAPH", AttrFloats: "FLOATS", AttrInts: "INTS",
	AttrStrings: "STRINGS", AttrTensors: "TENSORS", AttrGraphs: "GRAPHS",
}

func (a AttrType) String() string {
	if s, ok := attrTypeNames[a]; ok {
		return s
	}
	return fmt.Sprintf("AttrType(%d)", int32(a))
}

// Attribute is one node attribute. Type says which field holds the value.
// Graph-valued attributes (control flow) are recorded by type only; none of
// the supported operators has one.
type Attribute struct {
	Name    string
	Type    AttrType
	F       float32
	I       int64
	S       string
	T       *Tensor
	Floats  []float32
	Ints    []int64
	Strings []string
	Tensors []*Tensor
}

// Node is one operator application.
type Node struct {
	Name   string
	OpType string
	// Domain is "" (or "ai.onnx") for standard operators.
	Domain  string
	Inputs  []string // "" marks an omitted optional input
	Outputs []string
	Attrs   []Attribute
}

// Graph is a model's computation: nodes in file order (see Graph.TopoSort),
// weights as initializers, and the named inputs and outputs.
type Graph struct {
	Name         string
	Nodes        []*Node
	Initializers []*Tensor
	Inputs       []ValueInfo // may include initializers (IR version < 4)
	Outputs      []ValueInfo
	ValueInfo    []ValueInfo // optional shapes of intermediate values
}

// OpsetImport names an operator set version for a domain.
type OpsetImport struct {
	Domain  string
	Version int64
}

// Model is a parsed ONNX model.
type Model struct {
	IRVersion       int64
	Opsets          []OpsetImport
	ProducerName    string
	ProducerVersion string
	Domain          string
	ModelVersion    int64
	DocString       string
	Graph           Graph
	Metadata        map[string]string
}

// Opset returns the imported version of the standard operator set ("" or
// "ai.onnx"), or 0 if the model imports none.
func (m *Model) Opset() int64 {
	for _, o := range m.Opsets {
		if o.Domain == "" || o.Domain == "ai.onnx" {
			return o.Version
		}
	}
	return 0
}

// Initializer returns the initializer with the given name.
func (g *Graph) Initializer(name string) (*Tensor, bool) {
	for _, t := range g.Initializers {
		if t.Name == name {
			return t, true
		}
	}
	return nil, false
}

// CheckFinite returns an error naming the first initializer (or Constant
// node value) and flat index holding a NaN or an infinity.
func (m *Model) CheckFinite() error {
	check := func(t *Tensor, where string) error {
		for i, v := range t.Floats {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return errors.Errorf("onnx: %s %q holds %v at flat index %d", where, t.Name, v, i)
			}
		}
		return nil
	}
	for _, t := range m.Graph.Initializers {
		if err := check(t, "initializer"); err != nil {
			return err
		}
	}
	for _, n := range m.Graph.Nodes {
		for _, a := range n.Attrs {
			if a.T != nil {
				if err := check(a.T, fmt.Sprintf("node %q attribute", n.Name)); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

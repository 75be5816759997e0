package onnx

import "github.com/pkg/errors"

// Attr returns the attribute with the given name.
func (n *Node) Attr(name string) (*Attribute, bool) {
	for i := range n.Attrs {
		if n.Attrs[i].Name == name {
			return &n.Attrs[i], true
		}
	}
	return nil, false
}

// attr returns the named attribute, checking its type; ok is false when it
// is absent.
func (n *Node) attr(name string, want AttrType) (*Attribute, bool, error) {
	a, ok := n.Attr(name)
	if !ok {
		return nil, false, nil
	}
	if a.Type != want {
		return nil, false, errors.Errorf("onnx: node %q (%s): attribute %q is %s, want %s", n.Name, n.OpType, name, a.Type, want)
	}
	return a, true, nil
}

// Int returns the INT attribute name, or def if it is absent. An attribute
// of another type is an error.
func (n *Node) Int(name string, def int64) (int64, error) {
	a, ok, err := n.attr(name, AttrInt)
	if !ok {
		return def, err
	}
	return a.I, nil
}

// Float returns the FLOAT attribute name, or def if it is absent.
func (n *Node) Float(name string, def float32) (float32, error) {
	a, ok, err := n.attr(name, AttrFloat)
	if !ok {
		return def, err
	}
	return a.F, nil
}

// String returns the STRING attribute name, or def if it is absent.
func (n *Node) String(name string, def string) (string, error) {
	a, ok, err := n.attr(name, AttrString)
	if !ok {
		return def, err
	}
	return a.S, nil
}

// Ints returns the INTS attribute name, or def if it is absent.
func (n *Node) Ints(name string, def []int64) ([]int64, error) {
	a, ok, err := n.attr(name, AttrInts)
	if !ok {
		return def, err
	}
	return a.Ints, nil
}

// Floats returns the FLOATS attribute name, or def if it is absent.
func (n *Node) Floats(name string, def []float32) ([]float32, error) {
	a, ok, err := n.attr(name, AttrFloats)
	if !ok {
		return def, err
	}
	return a.Floats, nil
}

// Tensor returns the TENSOR attribute name (for example a Constant's
// "value"); it is an error if the attribute is absent.
func (n *Node) Tensor(name string) (*Tensor, error) {
	a, ok, err := n.attr(name, AttrTensor)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errors.Errorf("onnx: node %q (%s): missing attribute %q", n.Name, n.OpType, name)
	}
	return a.T, nil
}

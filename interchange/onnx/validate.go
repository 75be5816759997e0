package onnx

import (
	"container/heap"
	"strings"

	"github.com/pkg/errors"
)

// SupportedOps lists the standard-domain operators that GoogLeNet-family
// models use and that this project can build: Validate rejects any other.
var SupportedOps = map[string]bool{
	"Conv": true, "Relu": true, "MaxPool": true, "AveragePool": true,
	"GlobalAveragePool": true, "LRN": true, "Concat": true, "Dropout": true,
	"Flatten": true, "Reshape": true, "Gemm": true, "MatMul": true, "Add": true,
	"Softmax": true, "Pad": true, "BatchNormalization": true, "Identity": true,
	"Constant": true,
}

// Validate checks the model's structure against SupportedOps; see
// ValidateOps.
func (m *Model) Validate() error {
	return m.ValidateOps(SupportedOps)
}

// ValidateOps checks that the model imports the standard operator set, that
// every node's operator is in ops (standard domain only), that value names
// are defined once (no duplicate outputs, initializers or inputs), that every
// node input and graph output is defined, and that the graph has no cycle.
// Errors name the offending node and operator.
func (m *Model) ValidateOps(ops map[string]bool) error {
	if m.Opset() <= 0 {
		return errors.New("onnx: model imports no standard (ai.onnx) operator set")
	}
	g := &m.Graph
	if len(g.Outputs) == 0 {
		return errors.New("onnx: graph has no outputs")
	}
	var unsupported []string
	for _, n := range g.Nodes {
		if n.OpType == "" {
			return errors.Errorf("onnx: node %q has no operator type", n.Name)
		}
		if (n.Domain != "" && n.Domain != "ai.onnx") || !ops[n.OpType] {
			op := n.OpType
			if n.Domain != "" && n.Domain != "ai.onnx" {
				op = n.Domain + "." + op
			}
			unsupported = append(unsupported, op+" (node "+quote(n.Name)+")")
		}
	}
	if len(unsupported) > 0 {
		return errors.Errorf("onnx: unsupported operator(s): %s", strings.Join(unsupported, ", "))
	}
	if _, err := g.TopoSort(); err != nil {
		return err
	}
	return nil
}

func quote(s string) string { return `"` + s + `"` }

// TopoSort returns the nodes in an order where each node follows the nodes
// producing its inputs (stable: file order among ready nodes). It fails if a
// value is defined twice, if a node input or graph output is defined
// nowhere, or if the nodes form a cycle.
func (g *Graph) TopoSort() ([]*Node, error) {
	defined := map[string]string{} // value name -> what defines it
	define := func(name, by string) error {
		if prev, dup := defined[name]; dup {
			return errors.Errorf("onnx: value %q is defined twice (by %s and by %s)", name, prev, by)
		}
		defined[name] = by
		return nil
	}
	for _, t := range g.Initializers {
		if t.Name == "" {
			return nil, errors.New("onnx: initializer with no name")
		}
		if err := define(t.Name, "an initializer"); err != nil {
			return nil, err
		}
	}
	for _, in := range g.Inputs {
		if in.Name == "" {
			return nil, errors.New("onnx: graph input with no name")
		}
		if by, ok := defined[in.Name]; ok && by == "an initializer" {
			continue // IR < 4 lists initializers among the inputs
		}
		if err := define(in.Name, "a graph input"); err != nil {
			return nil, err
		}
	}
	producer := map[string]int{}
	for i, n := range g.Nodes {
		for _, out := range n.Outputs {
			if out == "" {
				continue
			}
			if err := define(out, "node "+quote(n.Name)+" ("+n.OpType+")"); err != nil {
				return nil, err
			}
			producer[out] = i
		}
	}
	// Kahn's algorithm over node indices.
	pending := make([]int, len(g.Nodes))
	users := make([][]int, len(g.Nodes))
	for i, n := range g.Nodes {
		for _, in := range n.Inputs {
			if in == "" {
				continue // omitted optional input
			}
			if _, ok := defined[in]; !ok {
				return nil, errors.Errorf("onnx: node %q (%s): input %q is not a graph input, an initializer or any node's output", n.Name, n.OpType, in)
			}
			if p, ok := producer[in]; ok {
				pending[i]++
				users[p] = append(users[p], i)
			}
		}
	}
	for _, out := range g.Outputs {
		if _, ok := defined[out.Name]; !ok {
			return nil, errors.Errorf("onnx: graph output %q is not produced by any node", out.Name)
		}
	}
	ready := &intHeap{}
	for i := range g.Nodes {
		if pending[i] == 0 {
			heap.Push(ready, i)
		}
	}
	order := make([]*Node, 0, len(g.Nodes))
	for ready.Len() > 0 {
		i := heap.Pop(ready).(int)
		order = append(order, g.Nodes[i])
		for _, u := range users[i] {
			pending[u]--
			if pending[u] == 0 {
				heap.Push(ready, u)
			}
		}
	}
	if len(order) != len(g.Nodes) {
		var stuck []string
		for i, n := range g.Nodes {
			if pending[i] > 0 {
				stuck = append(stuck, quote(n.Name)+" ("+n.OpType+")")
			}
		}
		return nil, errors.Errorf("onnx: graph has a cycle through node(s) %s", strings.Join(stuck, ", "))
	}
	return order, nil
}

// intHeap is a min-heap of node indices, so ready nodes leave in file order.
type intHeap []int

func (h intHeap) Len() int           { return len(h) }
func (h intHeap) Less(i, j int) bool { return h[i] < h[j] }
func (h intHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *intHeap) Push(x any)        { *h = append(*h, x.(int)) }
func (h *intHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

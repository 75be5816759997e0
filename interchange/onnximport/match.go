package onnximport

import (
	"fmt"
	"math"
	"strings"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"

	"github.com/goinception/googlenet/inception"
	"github.com/goinception/googlenet/ops"
)

// gview wraps a graph for child lookups.
type gview struct{ g *G.ExprGraph }

func (v gview) children(n *G.Node) []*G.Node {
	it := v.g.From(n.ID())
	var cs []*G.Node
	for it.Next() {
		cs = append(cs, it.Node().(*G.Node))
	}
	return cs
}

// view is a node seen as a layer; strip views a convolution with a fused
// ReLU as the convolution alone (its ReLU is the view without strip).
type view struct {
	n     *G.Node
	strip bool
}

type vkey struct {
	id    int64
	strip bool
}

// layer is a node in canonical form.
type layer struct {
	kind string // input, param, conv, relu, maxpool, avgpool, gap, lrn, linear, concat, batchnorm, add, other
	info ops.OpInfo
	n    *G.Node
	ins  []*G.Node // all inputs (data first)
	data []view    // data inputs to follow
}

type matcher struct {
	ours, theirs gview
	tin          *G.Node
	pairs        map[vkey]vkey
	weights      map[string][]float32 // our parameter name -> values
	bns          map[*ops.BNStats]*ops.BNStats
}

func newMatcher(og, tg *G.ExprGraph, tin *G.Node) *matcher {
	return &matcher{ours: gview{og}, theirs: gview{tg}, tin: tin, pairs: map[vkey]vkey{},
		weights: map[string][]float32{}, bns: map[*ops.BNStats]*ops.BNStats{}}
}

func isReshape(n *G.Node) bool {
	return n.Op() != nil && strings.HasPrefix(fmt.Sprint(n.Op()), "Reshape")
}

// canon returns the layer that v computes, skipping reshapes.
func (mt *matcher) canon(gv gview, v view, input func(*G.Node) bool) layer {
	n := v.n
	for isReshape(n) {
		n = gv.children(n)[0]
		v = view{n: n}
	}
	if n.Op() == nil {
		if input(n) {
			return layer{kind: "input", n: n}
		}
		return layer{kind: "param", n: n}
	}
	cs := gv.children(n)
	info, ok := ops.Describe(n.Op())
	if !ok {
		if strings.HasPrefix(fmt.Sprint(n.Op()), "+") && len(cs) == 2 {
			return layer{kind: "add", n: n, ins: cs, data: []view{{n: cs[0]}, {n: cs[1]}}}
		}
		return layer{kind: "other", n: n, ins: cs}
	}
	l := layer{kind: info.Kind, info: info, n: n, ins: cs}
	switch info.Kind {
	case "conv":
		if info.Conv.ReLU && !v.strip {
			return layer{kind: "relu", n: n, data: []view{{n: n, strip: true}}}
		}
		l.data = []view{{n: cs[0]}}
	case "linear", "batchnorm", "relu", "lrn", "maxpool", "globalavgpool", "softmax":
		l.data = []view{{n: cs[0]}}
	case "avgpool", "adaptiveavgpool":
		l.data = []view{{n: cs[0]}}
		in, out := cs[0].Shape(), n.Shape()
		p := info.Pool
		if out[2] == 1 && out[3] == 1 && (info.Kind == "adaptiveavgpool" ||
			(p.KernelH == in[2] && p.KernelW == in[3] && p.Pad == ops.Pad2D{})) {
			l.kind = "globalavgpool"
		}
	case "concat":
		for _, c := range cs {
			l.data = append(l.data, view{n: c})
		}
	default:
		l.kind = "other"
	}
	return l
}

func vals32(n *G.Node) []float32 {
	switch d := n.Value().Data().(type) {
	case []float32:
		return d
	case []float64:
		o := make([]float32, len(d))
		for i, x := range d {
			o[i] = float32(x)
		}
		return o
	}
	return nil
}

func close32(a, b float64) bool { return math.Abs(a-b) <= 1e-6*math.Max(1, math.Abs(b)) }

// match checks that our view a and their view b compute the same function of
// the input, recording the weight correspondences. where names the position
// for error messages.
func (mt *matcher) match(a, b view, where string) error {
	la := mt.canon(mt.ours, a, func(n *G.Node) bool { return n.Name() == "data" })
	lb := mt.canon(mt.theirs, b, func(n *G.Node) bool { return n == mt.tin })
	ka, kb := vkey{la.n.ID(), a.strip && la.kind == "conv"}, vkey{lb.n.ID(), b.strip && lb.kind == "conv"}
	if prev, ok := mt.pairs[ka]; ok {
		if prev != kb {
			return errors.Errorf("at %s: our %s is fed by two different ONNX values", where, la.n.Name())
		}
		return nil
	}
	mt.pairs[ka] = kb
	name := la.n.Name()
	if la.kind == "conv" || la.kind == "linear" || la.kind == "batchnorm" {
		name = la.ins[1].Name()
	}
	fail := func(format string, args ...any) error {
		return errors.Errorf("at %s (our %s %s): %s", where, la.kind, name, fmt.Sprintf(format, args...))
	}
	// MatMul + Add is a linear layer with a bias.
	if la.kind == "linear" && lb.kind == "add" && la.info.Bias {
		lin, cst := lb.ins[0], lb.ins[1]
		if lin.Op() == nil {
			lin, cst = cst, lin
		}
		li, ok := ops.Describe(lin.Op())
		if !ok || li.Kind != "linear" || li.Bias || cst.Op() != nil {
			return fail("ONNX Add is not a bias add after a linear layer")
		}
		cs := mt.theirs.children(lin)
		if err := mt.sameShape(la.ins[1], cs[1], fail); err != nil {
			return err
		}
		bias := vals32(cst)
		if len(bias) != la.ins[2].Shape().TotalSize() {
			return fail("bias of %d values, want %d", len(bias), la.ins[2].Shape().TotalSize())
		}
		mt.weights[la.ins[1].Name()] = vals32(cs[1])
		mt.weights[la.ins[2].Name()] = bias
		return mt.match(view{n: la.ins[0]}, view{n: cs[0]}, where+" <- "+name)
	}
	// A batch norm folded into the convolution before it (torch.onnx in
	// eval mode): our conv (no bias) -> batch norm matches their conv with
	// a bias, as scale 1, shift = bias, mean 0 and variance 1 - eps.
	if la.kind == "batchnorm" && lb.kind == "conv" && lb.info.Bias && !lb.info.Conv.ReLU {
		return mt.matchFolded(la, lb, where, fail)
	}
	if la.kind != lb.kind {
		return fail("ONNX has %s %v", lb.kind, lb.n.Op())
	}
	if !la.n.Shape().Eq(lb.n.Shape()) && la.kind != "relu" {
		return fail("output shape %v, ONNX %v", la.n.Shape(), lb.n.Shape())
	}
	ia, ib := la.info, lb.info
	switch la.kind {
	case "input":
		if !la.n.Shape().Eq(lb.n.Shape()) {
			return fail("input shape %v, ONNX %v", la.n.Shape(), lb.n.Shape())
		}
		return nil
	case "param", "other":
		return fail("unexpected node %v", lb.n.Op())
	case "conv":
		ca, cb := ia.Conv, ib.Conv
		if ca.StrideH != cb.StrideH || ca.StrideW != cb.StrideW || ca.Pad.Top != cb.Pad.Top || ca.Pad.Left != cb.Pad.Left {
			return fail("strides %dx%d pads %+v, ONNX strides %dx%d pads %+v", ca.StrideH, ca.StrideW, ca.Pad, cb.StrideH, cb.StrideW, cb.Pad)
		}
		if cb.ReLU && !b.strip {
			return fail("ONNX convolution has a fused ReLU")
		}
		fallthrough
	case "linear":
		if err := mt.sameShape(la.ins[1], lb.ins[1], fail); err != nil {
			return err
		}
		if ia.Bias != ib.Bias {
			return fail("bias %v, ONNX bias %v", ia.Bias, ib.Bias)
		}
		mt.weights[la.ins[1].Name()] = vals32(lb.ins[1])
		if ia.Bias {
			mt.weights[la.ins[2].Name()] = vals32(lb.ins[2])
		}
	case "batchnorm":
		ea, eb := ia.BN.Eps, ib.BN.Eps
		if ea == 0 {
			ea = ops.DefaultBNEps
		}
		if !close32(float64(float32(ea)), float64(float32(eb))) {
			return fail("epsilon %g, ONNX %g", ea, eb)
		}
		mt.weights[la.ins[1].Name()] = vals32(lb.ins[1])
		mt.weights[la.ins[2].Name()] = vals32(lb.ins[2])
		mt.bns[ia.BN] = ib.BN
	case "maxpool", "avgpool":
		pa, pb := ia.Pool, ib.Pool
		if pa.KernelH != pb.KernelH || pa.KernelW != pb.KernelW || pa.StrideH != pb.StrideH || pa.StrideW != pb.StrideW ||
			pa.Pad.Top != pb.Pad.Top || pa.Pad.Left != pb.Pad.Left {
			return fail("window %+v, ONNX %+v", pa, pb)
		}
		if la.kind == "avgpool" && pa.CountIncludePad != pb.CountIncludePad &&
			(pa.Pad != ops.Pad2D{} || pb.Pad != ops.Pad2D{} || pa.CeilMode || pb.CeilMode) {
			return fail("count_include_pad differs")
		}
	case "lrn":
		a, b := ia.LRN, ib.LRN
		if a.Size != b.Size || !close32(a.Alpha, b.Alpha) || !close32(a.Beta, b.Beta) || !close32(a.K, b.K) {
			return fail("LRN %+v, ONNX %+v", a, b)
		}
	case "concat":
		if len(la.data) != len(lb.data) {
			return fail("%d branches, ONNX %d", len(la.data), len(lb.data))
		}
	}
	for i := range la.data {
		if err := mt.match(la.data[i], lb.data[i], fmt.Sprintf("%s <- %s[%d]", where, name, i)); err != nil {
			return err
		}
	}
	return nil
}

// matchFolded matches our convolution and batch norm la (the batch norm)
// with their convolution lb, whose weights have the batch norm folded in.
func (mt *matcher) matchFolded(la, lb layer, where string, fail func(string, ...any) error) error {
	conv := la.ins[0]
	ci, ok := ops.Describe(conv.Op())
	if !ok || ci.Kind != "conv" || ci.Bias || ci.Conv.ReLU {
		return fail("ONNX convolution with a folded batch norm, ours is not a convolution without bias")
	}
	if !la.n.Shape().Eq(lb.n.Shape()) {
		return fail("output shape %v, ONNX %v", la.n.Shape(), lb.n.Shape())
	}
	ca, cb := ci.Conv, lb.info.Conv
	if ca.StrideH != cb.StrideH || ca.StrideW != cb.StrideW || ca.Pad.Top != cb.Pad.Top || ca.Pad.Left != cb.Pad.Left {
		return fail("strides %dx%d pads %+v, ONNX strides %dx%d pads %+v", ca.StrideH, ca.StrideW, ca.Pad, cb.StrideH, cb.StrideW, cb.Pad)
	}
	ours := mt.ours.children(conv)
	if err := mt.sameShape(ours[1], lb.ins[1], fail); err != nil {
		return err
	}
	eps := la.info.BN.Eps
	if eps == 0 {
		eps = ops.DefaultBNEps
	}
	if !(eps > 0 && eps < 1) {
		return fail("epsilon %g cannot be folded", eps)
	}
	c := len(la.info.BN.Mean)
	bias := vals32(lb.ins[2])
	if len(bias) != c {
		return fail("bias of %d values, want %d", len(bias), c)
	}
	ones := make([]float32, c)
	st := &ops.BNStats{Mean: make([]float64, c), Var: make([]float64, c)}
	for i := range ones {
		ones[i], st.Var[i] = 1, 1-eps
	}
	mt.weights[ours[1].Name()] = vals32(lb.ins[1])
	mt.weights[la.ins[1].Name()] = ones
	mt.weights[la.ins[2].Name()] = bias
	mt.bns[la.info.BN] = st
	mt.pairs[vkey{conv.ID(), false}] = vkey{lb.n.ID(), false}
	return mt.match(view{n: ours[0]}, view{n: lb.ins[0]}, where+" <- "+ours[1].Name())
}

func (mt *matcher) sameShape(a, b *G.Node, fail func(string, ...any) error) error {
	if !a.Shape().Eq(b.Shape()) {
		return fail("weight %v, ONNX %v", a.Shape(), b.Shape())
	}
	if b.Value() == nil {
		return fail("ONNX weight is computed, not constant")
	}
	return nil
}

// copyInto writes the matched weights and statistics into m, after checking
// that every parameter of m was matched.
func (mt *matcher) copyInto(m *inception.Model) error {
	for _, p := range m.Params() {
		v, ok := mt.weights[p.Name]
		if !ok {
			return errors.Errorf("onnximport: no ONNX weight maps to %s", p.Name)
		}
		switch d := p.Value.Data().(type) {
		case []float32:
			if len(d) != len(v) {
				return errors.Errorf("onnximport: %s: %d values, ONNX %d", p.Name, len(d), len(v))
			}
			copy(d, v)
		case []float64:
			if len(d) != len(v) {
				return errors.Errorf("onnximport: %s: %d values, ONNX %d", p.Name, len(d), len(v))
			}
			for i, x := range v {
				d[i] = float64(x)
			}
		}
	}
	for _, e := range m.BNStats() {
		src, ok := mt.bns[e.Stats]
		if !ok {
			return errors.Errorf("onnximport: no ONNX statistics map to %s", e.Name)
		}
		copy(e.Stats.Mean, src.Mean)
		copy(e.Stats.Var, src.Var)
	}
	return nil
}

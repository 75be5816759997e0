package convert

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/goinception/googlenet/inception"
	"github.com/goinception/googlenet/interchange/onnx"
	"github.com/goinception/googlenet/interchange/onnxnet"
	"github.com/goinception/googlenet/ops"
	"github.com/goinception/googlenet/preprocess"
)

// ONNXImport is the result of ImportONNX: our model with the file's weights
// and what else the file said.
type ONNXImport struct {
	Model *inception.Model
	// Softmax reports that the file's output is softmax(logits) (model-zoo
	// style); Model.Forward returns the logits.
	Softmax bool
	// Labels, Means and Stds come from the file's metadata when it was
	// written by ExportONNX (nil otherwise).
	Labels      []string
	Means, Stds []float32
	// Input is the input contract: from the metadata (ExportONNX), the ONNX
	// model zoo's for a zoo-style file, else nil.
	Input *preprocess.Contract
}

// ImportONNX maps an ONNX GoogLeNet onto one of our configurations and
// returns a model holding its weights. The file's graph is built with Net,
// then compared operator by operator, from the output back to the input, with
// the inference graph of each candidate configuration: the configuration
// stored by ExportONNX when present, else the paper, torchvision and mini
// presets with the file's input channels, input size and classes (auxiliary
// heads removed: an ONNX inference graph has none). Layers match when they
// compute the same function: a max pool with pads [0,0,1,1] matches a
// ceil-mode pool with the same windows, a 7x7 average pool over a 7x7 input
// a global average pool, Conv+Relu a convolution with fused ReLU, and
// a convolution with a bias our convolution and batch norm (torch.onnx folds
// batch norms in eval mode: scale 1, shift = bias, mean 0, variance 1 - eps),
// Identity, Dropout, Flatten and Reshape are transparent; a final Softmax is
// recorded in ONNXImport.Softmax. Weights are copied from the matched
// nodes, batch-norm statistics included. A file that matches no candidate is
// an error naming the first layer that differs. inputSize is used when the
// file's input size is symbolic (0 means 224).
func ImportONNX(m *onnx.Model, inputSize int) (*ONNXImport, error) {
	net, err := onnxnet.NewNet(m)
	if err != nil {
		return nil, err
	}
	decl := net.InputShape()
	if len(decl) != 4 {
		return nil, errors.Errorf("convert: ONNX input %q has shape %v, want NCHW", net.InputName(), decl)
	}
	c, h, w := decl[1], decl[2], decl[3]
	if h <= 0 && w <= 0 {
		if inputSize <= 0 {
			inputSize = 224
		}
		h, w = inputSize, inputSize
	}
	if c <= 0 || h != w {
		return nil, errors.Errorf("convert: ONNX input %q has shape %v, want [N C S S] with fixed C and S", net.InputName(), decl)
	}
	if len(net.OutputNames()) != 1 {
		return nil, errors.Errorf("convert: ONNX graph has %d outputs, want 1 (the logits or probabilities)", len(net.OutputNames()))
	}
	tg, tin, touts, err := net.Graph(1, c, h, w)
	if err != nil {
		return nil, err
	}
	os := touts[0].Shape()
	if len(os) != 2 || os[0] != 1 {
		return nil, errors.Errorf("convert: ONNX output %q has shape %v for one image, want [1 classes]", net.OutputNames()[0], os)
	}
	res := &ONNXImport{}
	md := m.Metadata
	var cands []inception.Config
	if s, ok := md[MetaConfig]; ok {
		var cfg inception.Config
		dec := json.NewDecoder(strings.NewReader(s))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&cfg); err != nil {
			return nil, errors.Wrapf(err, "convert: ONNX metadata %s", MetaConfig)
		}
		if p, err := inception.ConfigFor(cfg.Variant); err == nil {
			cfg.Init = p.Init
		}
		cands = append(cands, cfg)
		for key, dst := range map[string]any{MetaLabels: &res.Labels, MetaMeans: &res.Means, MetaStds: &res.Stds} {
			if s, ok := md[key]; ok {
				if err := json.Unmarshal([]byte(s), dst); err != nil {
					return nil, errors.Wrapf(err, "convert: ONNX metadata %s", key)
				}
			}
		}
	} else {
		for _, v := range inception.Variants {
			cfg, _ := inception.ConfigFor(v)
			cfg.InChannels, cfg.InputSize, cfg.Classes = c, h, os[1]
			cands = append(cands, cfg)
		}
	}
	var reasons []string
	for _, cfg := range cands {
		cfg.BatchSize, cfg.Dtype = 1, tensor.Float32
		cfg.Table = append([]inception.Row(nil), cfg.Table...)
		for i := range cfg.Table {
			cfg.Table[i].Aux = 0
		}
		if cfg.InChannels != c || cfg.InputSize != h || cfg.Classes != os[1] {
			reasons = append(reasons, fmt.Sprintf("%s: stored config takes [%d %d %d] -> %d, the graph [%d %d %d] -> %d",
				cfg.Variant, cfg.InChannels, cfg.InputSize, cfg.InputSize, cfg.Classes, c, h, w, os[1]))
			continue
		}
		if !quickFit(m, cfg) {
			reasons = append(reasons, fmt.Sprintf("%s: LRN or batch-norm use differs", cfg.Variant))
			continue
		}
		model, err := inception.New(cfg)
		if err != nil {
			reasons = append(reasons, fmt.Sprintf("%s: %v", cfg.Variant, err))
			continue
		}
		og, err := model.InferenceGraph(1)
		if err != nil {
			return nil, errors.Wrap(err, "convert")
		}
		mt := newMatcher(og, tg, tin)
		root := touts[0]
		soft := false
		if info, ok := ops.Describe(root.Op()); ok && info.Kind == "softmax" {
			root, soft = mt.theirs.children(root)[0], true
		} else if strings.HasPrefix(fmt.Sprint(root.Op()), "Reshape") {
			// Softmax over [N,C,1,1] built as reshape, softmax, reshape.
			if ch := mt.theirs.children(root)[0]; ch.Op() != nil {
				if info, ok := ops.Describe(ch.Op()); ok && info.Kind == "softmax" {
					root, soft = mt.theirs.children(ch)[0], true
				}
			}
		}
		ors := og.Roots()
		if len(ors) != 1 {
			return nil, errors.Errorf("convert: inference graph of %s has %d outputs", cfg.Variant, len(ors))
		}
		if err := mt.match(view{n: ors[0]}, view{n: root}, "logits"); err != nil {
			reasons = append(reasons, fmt.Sprintf("%s: %v", cfg.Variant, err))
			continue
		}
		if err := mt.copyInto(model); err != nil {
			return nil, err
		}
		res.Model, res.Softmax = model, soft
		if res.Input, err = onnxContract(m, net.InputName(), net.OutputNames(), model.Config(), soft); err != nil {
			return nil, err
		}
		return res, nil
	}
	return nil, errors.Errorf("convert: the ONNX graph is not a GoogLeNet we can map (it can still run as an onnxnet.Net): %s",
		strings.Join(reasons, "; "))
}

// quickFit rejects candidates whose use of LRN or batch norm cannot be the
// file's, before building them.
func quickFit(m *onnx.Model, cfg inception.Config) bool {
	var lrn, bn bool
	for _, n := range m.Graph.Nodes {
		lrn = lrn || n.OpType == "LRN"
		bn = bn || n.OpType == "BatchNormalization"
	}
	// Batch norm may be folded into the convolutions (torch.onnx in eval
	// mode), so a batch-norm configuration may match a file without any.
	return lrn == !cfg.NoLRN && (!bn || cfg.BatchNorm)
}

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
			return errors.Errorf("convert: no ONNX weight maps to %s", p.Name)
		}
		switch d := p.Value.Data().(type) {
		case []float32:
			if len(d) != len(v) {
				return errors.Errorf("convert: %s: %d values, ONNX %d", p.Name, len(d), len(v))
			}
			copy(d, v)
		case []float64:
			if len(d) != len(v) {
				return errors.Errorf("convert: %s: %d values, ONNX %d", p.Name, len(d), len(v))
			}
			for i, x := range v {
				d[i] = float64(x)
			}
		}
	}
	for _, e := range m.BNStats() {
		src, ok := mt.bns[e.Stats]
		if !ok {
			return errors.Errorf("convert: no ONNX statistics map to %s", e.Name)
		}
		copy(e.Stats.Mean, src.Mean)
		copy(e.Stats.Var, src.Var)
	}
	return nil
}

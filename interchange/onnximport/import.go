package onnximport

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/goinception/googlenet/inception"
	"github.com/goinception/googlenet/interchange/onnx"
	"github.com/goinception/googlenet/interchange/onnxexport"
	"github.com/goinception/googlenet/interchange/onnxnet"
	"github.com/goinception/googlenet/ops"
	"github.com/goinception/googlenet/preprocess"
)

// Result is what GoogLeNet read: our model with the file's weights and what
// else the file said.
type Result struct {
	Model *inception.Model
	// Softmax reports that the file's output is softmax(logits) (model-zoo
	// style); Model.Forward returns the logits.
	Softmax bool
	// Labels, Means and Stds come from the file's metadata when it was
	// written by package interchange/onnxexport (nil otherwise).
	Labels      []string
	Means, Stds []float32
	// Input is the input contract: from the metadata (onnxexport), the
	// ONNX model zoo's for a zoo-style file, else nil.
	Input *preprocess.Contract
}

// GoogLeNet maps an ONNX GoogLeNet onto one of our configurations and
// returns a model holding its weights. The file's graph is built with
// onnxnet.Net, then compared operator by operator, from the output back to
// the input, with the inference graph of each candidate configuration: the
// configuration stored by onnxexport.GoogLeNet when present, else the
// paper, torchvision and mini presets with the file's input channels, input
// size and classes (auxiliary heads removed: an ONNX inference graph has
// none). Layers match when they compute the same function: a max pool with
// pads [0,0,1,1] matches a ceil-mode pool with the same windows, a 7x7
// average pool over a 7x7 input a global average pool, Conv+Relu a
// convolution with fused ReLU, and a convolution with a bias our
// convolution and batch norm (torch.onnx folds batch norms in eval mode:
// scale 1, shift = bias, mean 0, variance 1 - eps); Identity, Dropout,
// Flatten and Reshape are transparent; a final Softmax is recorded in
// Result.Softmax. Weights are copied from the matched nodes, batch-norm
// statistics included. A file that matches no candidate is an error naming
// the first layer that differs. inputSize is used when the file's input
// size is symbolic (0 means 224).
func GoogLeNet(m *onnx.Model, inputSize int) (*Result, error) {
	net, err := onnxnet.NewNet(m)
	if err != nil {
		return nil, err
	}
	decl := net.InputShape()
	if len(decl) != 4 {
		return nil, errors.Errorf("onnximport: ONNX input %q has shape %v, want NCHW", net.InputName(), decl)
	}
	c, h, w := decl[1], decl[2], decl[3]
	if h <= 0 && w <= 0 {
		if inputSize <= 0 {
			inputSize = 224
		}
		h, w = inputSize, inputSize
	}
	if c <= 0 || h != w {
		return nil, errors.Errorf("onnximport: ONNX input %q has shape %v, want [N C S S] with fixed C and S", net.InputName(), decl)
	}
	if len(net.OutputNames()) != 1 {
		return nil, errors.Errorf("onnximport: ONNX graph has %d outputs, want 1 (the logits or probabilities)", len(net.OutputNames()))
	}
	tg, tin, touts, err := net.Graph(1, c, h, w)
	if err != nil {
		return nil, err
	}
	os := touts[0].Shape()
	if len(os) != 2 || os[0] != 1 {
		return nil, errors.Errorf("onnximport: ONNX output %q has shape %v for one image, want [1 classes]", net.OutputNames()[0], os)
	}
	res := &Result{}
	md := m.Metadata
	var cands []inception.Config
	if s, ok := md[onnxexport.MetaConfig]; ok {
		var cfg inception.Config
		dec := json.NewDecoder(strings.NewReader(s))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&cfg); err != nil {
			return nil, errors.Wrapf(err, "onnximport: ONNX metadata %s", onnxexport.MetaConfig)
		}
		if p, err := inception.ConfigFor(cfg.Variant); err == nil {
			cfg.Init = p.Init
		}
		cands = append(cands, cfg)
		for key, dst := range map[string]any{onnxexport.MetaLabels: &res.Labels, onnxexport.MetaMeans: &res.Means, onnxexport.MetaStds: &res.Stds} {
			if s, ok := md[key]; ok {
				if err := json.Unmarshal([]byte(s), dst); err != nil {
					return nil, errors.Wrapf(err, "onnximport: ONNX metadata %s", key)
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
		cfg = cfg.WithoutAux()
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
			return nil, errors.Wrap(err, "onnximport")
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
			return nil, errors.Errorf("onnximport: inference graph of %s has %d outputs", cfg.Variant, len(ors))
		}
		if err := mt.match(view{n: ors[0]}, view{n: root}, "logits"); err != nil {
			reasons = append(reasons, fmt.Sprintf("%s: %v", cfg.Variant, err))
			continue
		}
		if err := mt.copyInto(model); err != nil {
			return nil, err
		}
		res.Model, res.Softmax = model, soft
		if res.Input, err = contract(m, net.InputName(), net.OutputNames(), model.Config(), soft); err != nil {
			return nil, err
		}
		return res, nil
	}
	return nil, errors.Errorf("onnximport: the ONNX graph is not a GoogLeNet we can map (it can still run as an onnxnet.Net): %s",
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

// contract returns the input contract of an imported ONNX file: the one
// onnxexport stored in its metadata, or the ONNX model zoo's preprocess for
// a file shaped like the zoo's GoogLeNet (three-channel input "data_0",
// output "prob_0" after a final Softmax; Caffe2's exports of other opsets
// name it "prob_1"), else nil (unknown).
func contract(m *onnx.Model, input string, outputs []string, cfg inception.Config, softmax bool) (*preprocess.Contract, error) {
	if s, ok := m.Metadata[onnxexport.MetaInput]; ok {
		c, err := preprocess.Decode(s)
		if err != nil {
			return nil, errors.Wrapf(err, "onnximport: ONNX metadata %s", onnxexport.MetaInput)
		}
		if err := c.Fits(cfg.InChannels, cfg.InputSize); err != nil {
			return nil, errors.Wrapf(err, "onnximport: ONNX metadata %s", onnxexport.MetaInput)
		}
		return &c, nil
	}
	if cfg.InChannels == 3 && softmax && input == "data_0" && len(outputs) == 1 && strings.HasPrefix(outputs[0], "prob_") {
		c := preprocess.ONNXZoo().ScaledTo(cfg.InputSize)
		return &c, nil
	}
	return nil, nil
}

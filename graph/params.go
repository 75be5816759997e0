package graph

import (
	"hash/fnv"
	"math/rand/v2"
	"slices"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/goinception/googlenet/ops"
)

// Kind says what a parameter is; solvers use it (for example to skip
// weight decay on biases) and initialisers dispatch on it.
type Kind int

const (
	Weight  Kind = iota // convolution or linear weight
	Bias                // convolution or linear bias
	BNScale             // batch-norm gamma
	BNShift             // batch-norm beta
)

func (k Kind) String() string {
	switch k {
	case Weight:
		return "weight"
	case Bias:
		return "bias"
	case BNScale:
		return "bn_scale"
	case BNShift:
		return "bn_shift"
	}
	return "unknown"
}

// Param is one trainable parameter: the single type a model, a solver
// (package solvers, whose Param is this type) and a checkpoint share. A
// training step leaves the gradient in Grad; a solver updates Value in place,
// honouring Frozen, Decay, LRMult and DecayMult; a checkpoint copies Value.
//
// Value is the tensor the parameter's graph node is bound to, and the
// graphs of one model (training, inference, features) all bind the same
// tensor: it is updated in place, never replaced, so every graph sees an
// update at once.
type Param struct {
	// Name is the unique hierarchical name, e.g. "inception_4a/3x3_reduce/w".
	// Suffixes: "w" weight, "b" bias, "bn/scale", "bn/shift".
	Name  string
	Node  *G.Node // nil in shape-only builds and for parameters made outside a graph
	Shape []int   // OIHW for conv weights, [Out,In] for linear weights
	Kind  Kind
	// FanIn is the number of inputs of one output unit (C*R*S for a conv).
	FanIn int
	// Value is the parameter's current value (nil in shape-only builds):
	// a dense, contiguous float32 or float64 tensor.
	Value *tensor.Dense
	// Grad is the gradient of the loss with respect to the parameter, left
	// here by a training step of a model (nil until then, and always nil
	// for a frozen parameter). Solvers read it and never write it.
	Grad *tensor.Dense
	// Frozen marks a parameter that training leaves alone (Options.Frozen):
	// no gradient is computed for it and solvers skip it.
	Frozen bool
	// Decay says whether weight decay applies (weights only, as Caffe's
	// bvlc_googlenet sets decay_mult 0 on biases; BN affine parameters are
	// not decayed either).
	Decay bool
	// LRMult multiplies the learning rate for this parameter, as Caffe's
	// lr_mult (10 on a new classifier is common); 0 means 1. To keep a
	// parameter fixed, freeze it.
	LRMult float64
	// DecayMult multiplies the weight decay for this parameter when Decay
	// is set, as Caffe's decay_mult; 0 means 1 (clear Decay for no decay).
	DecayMult float64
}

// Size returns the number of elements.
func (p *Param) Size() int64 { return prod(p.Shape) }

// BNEntry names the running statistics of one batch-norm layer. Name is the
// layer's name (e.g. "conv1/7x7_s2/bn"); the statistics' tensors are named
// Name+"/running_mean" and Name+"/running_var".
type BNEntry struct {
	Name  string
	Stats *ops.BNStats
}

// Params returns the trainable parameters in build order.
func (b *Builder) Params() []*Param { return b.params }

// Param returns the parameter with the given full name.
func (b *Builder) Param(name string) (*Param, bool) {
	p, ok := b.byName[name]
	return p, ok
}

// BNStats returns the non-trainable batch-norm state in build order.
func (b *Builder) BNStats() []BNEntry { return b.bn }

// LookupBN returns the running statistics of a batch-norm layer by its name
// ("conv1/7x7_s2/bn") or by the name of one of its tensors
// ("conv1/7x7_s2/bn/running_mean").
func (b *Builder) LookupBN(name string) (*ops.BNStats, bool) {
	if s, ok := b.bnNames[name]; ok {
		return s, true
	}
	for _, suf := range []string{"/running_mean", "/running_var"} {
		if n := len(name) - len(suf); n > 0 && name[n:] == suf {
			s, ok := b.bnNames[name[:n]]
			return s, ok
		}
	}
	return nil, false
}

// Trainable returns the parameters that are not frozen, in build order.
func (b *Builder) Trainable() []*Param {
	var ps []*Param
	for _, p := range b.params {
		if !p.Frozen {
			ps = append(ps, p)
		}
	}
	return ps
}

// NumParams returns the total number of trainable parameter elements.
func (b *Builder) NumParams() int64 {
	var n int64
	for _, p := range b.params {
		n += p.Size()
	}
	return n
}

// newParam registers and initialises a parameter named layer+"/"+suffix.
func (b *Builder) newParam(layer, suffix string, kind Kind, fanIn int, shape ...int) *Param {
	if b.err != nil {
		return nil
	}
	name := layer + "/" + suffix
	if _, dup := b.byName[name]; dup {
		b.err = errors.Errorf("graph: duplicate parameter %s", name)
		return nil
	}
	p := &Param{Name: name, Shape: shape, Kind: kind, Decay: kind == Weight, FanIn: fanIn}
	if b.opts.Frozen != nil {
		p.Frozen = b.opts.Frozen(name)
	}
	if b.g != nil {
		var val *tensor.Dense
		if b.opts.Values != nil {
			val = b.opts.Values(name)
			if val != nil && (!slices.Equal(val.Shape(), shape) || val.Dtype() != b.opts.Dtype) {
				b.err = errors.Errorf("graph: parameter %s: given value is %v %v, want %v %v",
					name, val.Dtype(), val.Shape(), b.opts.Dtype, shape)
				return nil
			}
		}
		if val == nil {
			data := make([]float64, prod(shape))
			b.opts.Init.Init(ParamInfo{Name: name, Kind: kind, Shape: shape, FanIn: fanIn}, paramRand(b.opts.Seed, name), data)
			val = denseFrom(b.opts.Dtype, data, shape)
		}
		p.Value = val
		p.Node = G.NewTensor(b.g, b.opts.Dtype, len(shape), G.WithShape(shape...), G.WithName(name), G.WithValue(val))
	}
	b.params = append(b.params, p)
	b.byName[name] = p
	return p
}

// newBNStats registers the running statistics of the batch-norm layer name.
func (b *Builder) newBNStats(name string, channels int, eps, momentum float64) *ops.BNStats {
	var st *ops.BNStats
	if b.opts.BNStats != nil {
		st = b.opts.BNStats(name)
	}
	if st != nil && (len(st.Mean) != channels || len(st.Var) != channels) {
		b.err = errors.Errorf("graph: batch norm %s: given statistics have %d/%d channels, want %d",
			name, len(st.Mean), len(st.Var), channels)
		return nil
	}
	if st == nil {
		st = &ops.BNStats{Mean: make([]float64, channels), Var: make([]float64, channels), Momentum: momentum, Eps: eps}
		for i := range st.Var {
			st.Var[i] = 1
		}
	}
	b.bn = append(b.bn, BNEntry{Name: name, Stats: st})
	b.bnNames[name] = st
	return st
}

// paramRand returns the random stream of one parameter: a PCG seeded by the
// model seed and a hash of the parameter's name.
func paramRand(seed uint64, name string) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(name))
	return rand.New(rand.NewPCG(seed, h.Sum64()))
}

func denseFrom(dt tensor.Dtype, data []float64, shape []int) *tensor.Dense {
	if dt == tensor.Float64 {
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(data))
	}
	f := make([]float32, len(data))
	for i, v := range data {
		f[i] = float32(v)
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(f))
}

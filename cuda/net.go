package cuda

import (
	"fmt"
	"sort"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/goinception/googlenet/inception"
	"github.com/goinception/googlenet/ops"
)

// Net is a GoogLeNet whose whole training step runs on the device: the
// weights, their gradients and momentum buffers, every activation and every
// activation gradient stay device-resident. Per step only the input batch
// and the labels go up and the per-image losses come down.
//
// Net covers the paper topology of package inception: conv stem with LRN,
// the Inception modules of Config.Table with their max pools, global
// average pool, dropout, linear classifier, softmax cross-entropy, and the
// auxiliary heads (average pool 5x5/3, 1x1 conv, fc + ReLU, dropout,
// classifier, loss weighted by Config.AuxWeight). Dropout masks are those
// of the CPU graph (ops.DropoutKeep with the model's seed and step), so a
// Net step and Model.Step compute the same function. It rejects what it
// does not implement on the device: batch norm, the small stem, naive
// modules and adaptive auxiliary pools (the torchvision and mini variants).
// Not safe for concurrent use.
type Net struct {
	d      *Device
	batch  int
	cfg    inception.Config
	params []*netParam
	byName map[string]*netParam
	layers []netLayer
	acts   []*act
	input  *act
	logits *act
	labels Ptr
	heads  []lossHead // main classifier first, then the auxiliary heads
	seed   uint64     // dropout masks: ops.DropoutKeep(seed, step, index, i, rate)
	step   uint64
	nDrop  int

	// AuxWeight weighs the auxiliary losses in the total (from the model's
	// AuxWeight when the Net was made).
	AuxWeight float64
	tmp       Ptr // scratch for gradients that accumulate (fan-out)
	tmpN      int
	dz        Ptr // scratch for ReLU-masked output gradients (one layer at a time)
	dzN       int
	bufs      []Ptr
}

type netParam struct {
	name  string
	n     int
	w, g  Ptr
	v     Ptr // momentum
	shape []int
}

// lossHead is one softmax cross-entropy on logits, weighted in the total.
type lossHead struct {
	logits *act
	weight float64
	losses Ptr // per image
}

// act is one activation [batch, c, h, w] and its gradient. A view act is a
// channel slice of a wider act (image stride > c*h*w): the branches of an
// Inception module write straight into the module's output.
type act struct {
	p, g    Ptr
	c, h, w int
	stride  int // image stride in elements; 0 means c*h*w
}

func (a *act) imageStride() int {
	if a.stride > 0 {
		return a.stride
	}
	return a.c * a.h * a.w
}

func (a *act) size(batch int) int { return batch * a.c * a.h * a.w }

// netLayer runs forward, and backward given the output gradient; backward
// adds (never writes) into the input gradients.
type netLayer struct {
	name     string
	forward  func() error
	backward func() error
}

// NewNet builds the device network of m's configuration for batches of
// batch images and uploads m's current weights.
func NewNet(d *Device, m *inception.Model, batch int) (*Net, error) {
	c := m.Config()
	switch {
	case batch <= 0:
		return nil, errors.Errorf("cuda: NewNet: batch %d", batch)
	case c.BatchNorm || c.SmallStem || c.Naive:
		return nil, errors.New("cuda: NewNet: batch norm, the small stem and naive modules are not implemented on the device")
	case c.AuxAdaptivePool > 0 && hasAux(c.Table):
		return nil, errors.New("cuda: NewNet: adaptive auxiliary pools are not implemented on the device")
	}
	rs := m.Rand()
	n := &Net{d: d, batch: batch, cfg: c, byName: map[string]*netParam{}, seed: rs.Seed, step: rs.Step,
		AuxWeight: m.AuxWeight()}
	if err := n.build(m); err != nil {
		n.Close()
		return nil, err
	}
	return n, nil
}

func hasAux(t []inception.Row) bool {
	for _, r := range t {
		if r.Aux > 0 {
			return true
		}
	}
	return false
}

func (n *Net) alloc(count int) (Ptr, error) {
	p, err := n.d.pool.GetFloats(count)
	if err == nil {
		n.bufs = append(n.bufs, p)
	}
	return p, err
}

func (n *Net) newAct(c, h, w int) (*act, error) {
	a := &act{c: c, h: h, w: w}
	var err error
	if a.p, err = n.alloc(a.size(n.batch)); err != nil {
		return nil, err
	}
	if a.g, err = n.alloc(a.size(n.batch)); err != nil {
		return nil, err
	}
	n.acts = append(n.acts, a)
	n.tmpN = max(n.tmpN, a.size(n.batch))
	return a, nil
}

// param uploads the model's parameter name.
func (n *Net) param(m *inception.Model, name string, shape ...int) (*netParam, error) {
	mp, ok := m.Param(name)
	if !ok {
		return nil, errors.Errorf("cuda: NewNet: model has no parameter %q", name)
	}
	size := 1
	for _, s := range shape {
		size *= s
	}
	vals, err := float32s(mp.Value())
	if err != nil {
		return nil, errors.Wrapf(err, "cuda: NewNet: %s", name)
	}
	if len(vals) != size {
		return nil, errors.Errorf("cuda: NewNet: %s has %d values, want %v", name, len(vals), shape)
	}
	p := &netParam{name: name, n: size, shape: shape}
	for _, dst := range []*Ptr{&p.w, &p.g, &p.v} {
		if *dst, err = n.alloc(size); err != nil {
			return nil, err
		}
	}
	if err := n.d.ex.Upload(p.w, vals); err != nil {
		return nil, errors.Wrapf(err, "cuda: NewNet: uploading %s", name)
	}
	if err := n.d.Fill(p.v, 0, size); err != nil {
		return nil, err
	}
	n.params = append(n.params, p)
	n.byName[name] = p
	return p, nil
}

func float32s(d *tensor.Dense) ([]float32, error) {
	if d == nil {
		return nil, errors.New("no value")
	}
	switch v := d.Data().(type) {
	case []float32:
		return append([]float32(nil), v...), nil
	case []float64:
		r := make([]float32, len(v))
		for i, x := range v {
			r[i] = float32(x)
		}
		return r, nil
	}
	return nil, errors.Errorf("unsupported dtype %v", d.Dtype())
}

// accumulate adds the count values at tmp into dst.
func (n *Net) accumulate(dst Ptr, count int) error { return n.d.Axpy(1, n.tmp, dst, count) }

// conv adds a convolution + bias + ReLU layer named name (parameters
// name/w, name/b) with a new output.
func (n *Net) conv(m *inception.Model, name string, in *act, k, r, stride, pad int) (*act, error) {
	return n.convInto(m, name, in, k, r, stride, pad, nil)
}

// convInto is conv writing into out when out is not nil (a view of k
// channels of a wider act, see module).
func (n *Net) convInto(m *inception.Model, name string, in *act, k, r, stride, pad int, out *act) (*act, error) {
	oh := (in.h+2*pad-r)/stride + 1
	ow := (in.w+2*pad-r)/stride + 1
	if oh <= 0 || ow <= 0 {
		return nil, errors.Errorf("cuda: NewNet: %s: input %dx%d too small", name, in.h, in.w)
	}
	g := ops.ConvGeom{N: n.batch, C: in.c, H: in.h, W: in.w, K: k, R: r, S: r, StrideH: stride, StrideW: stride,
		PadTop: pad, PadLeft: pad, OutH: oh, OutW: ow}
	w, err := n.param(m, name+"/w", k, in.c, r, r)
	if err != nil {
		return nil, err
	}
	b, err := n.param(m, name+"/b", k)
	if err != nil {
		return nil, err
	}
	if out == nil {
		if out, err = n.newAct(k, oh, ow); err != nil {
			return nil, err
		}
	} else if out.c != k || out.h != oh || out.w != ow {
		return nil, errors.Errorf("cuda: NewNet: %s: output view %dx%dx%d, want %dx%dx%d", name, out.c, out.h, out.w, k, oh, ow)
	}
	n.dzN = max(n.dzN, out.size(n.batch))
	n.layers = append(n.layers, netLayer{name: name,
		forward: func() error { return n.d.ConvForwardInto(g, in.p, w.w, b.w, out.p, out.imageStride(), true) },
		backward: func() error {
			dz := n.dz
			if err := n.d.ReLUBackwardView(out.p, out.g, dz, n.batch, k, oh*ow, out.imageStride()); err != nil {
				return err
			}
			if err := n.d.ConvBackwardFilter(g, in.p, dz, w.g, b.g); err != nil {
				return err
			}
			if in == n.input {
				return nil // no gradient for the images
			}
			if err := n.d.ConvBackwardData(g, w.w, dz, n.tmp); err != nil {
				return err
			}
			return n.accumulate(in.g, in.size(n.batch))
		}})
	return out, nil
}

func (n *Net) maxPool(name string, in *act, o ops.PoolOpts) (*act, error) {
	pg, err := NewPoolGeom(n.batch, in.c, in.h, in.w, o)
	if err != nil {
		return nil, errors.Wrapf(err, "cuda: NewNet: %s", name)
	}
	out, err := n.newAct(in.c, pg.OutH, pg.OutW)
	if err != nil {
		return nil, err
	}
	am, err := n.alloc(out.size(n.batch))
	if err != nil {
		return nil, err
	}
	n.layers = append(n.layers, netLayer{name: name,
		forward: func() error { return n.d.MaxPoolForward(pg, in.p, out.p, am) },
		backward: func() error {
			if err := n.d.MaxPoolBackward(pg, out.g, am, n.tmp); err != nil {
				return err
			}
			return n.accumulate(in.g, in.size(n.batch))
		}})
	return out, nil
}

func (n *Net) lrn(name string, in *act, o ops.LRNOpts) (*act, error) {
	out, err := n.newAct(in.c, in.h, in.w)
	if err != nil {
		return nil, err
	}
	scale, err := n.alloc(out.size(n.batch))
	if err != nil {
		return nil, err
	}
	hw := in.h * in.w
	n.layers = append(n.layers, netLayer{name: name,
		forward: func() error { return n.d.LRNForward(n.batch, in.c, hw, o, in.p, out.p, scale) },
		backward: func() error {
			if err := n.d.LRNBackward(n.batch, in.c, hw, o, in.p, out.p, scale, out.g, n.tmp); err != nil {
				return err
			}
			return n.accumulate(in.g, in.size(n.batch))
		}})
	return out, nil
}

// lrnOpts are bvlc_googlenet's LRN settings (as package inception).
var lrnOpts = ops.LRNOpts{Size: 5, Alpha: 1e-4, Beta: 0.75, K: 1}

func (n *Net) build(m *inception.Model) (err error) {
	c := n.cfg
	// The input batch needs no gradient buffer (conv1 skips its data
	// gradient).
	x := &act{c: c.InChannels, h: c.InputSize, w: c.InputSize}
	if x.p, err = n.alloc(x.size(n.batch)); err != nil {
		return err
	}
	n.input = x
	pool3 := ops.PoolOpts{KernelH: 3, KernelW: 3, StrideH: 2, StrideW: 2, CeilMode: true}
	steps := []func() error{
		func() (err error) { x, err = n.conv(m, "conv1/7x7_s2", x, c.Conv1, 7, 2, 3); return },
		func() (err error) { x, err = n.maxPool("pool1", x, pool3); return },
		func() (err error) {
			if !c.NoLRN {
				x, err = n.lrn("pool1/norm1", x, lrnOpts)
			}
			return
		},
		func() (err error) { x, err = n.conv(m, "conv2/3x3_reduce", x, c.Conv2Reduce, 1, 1, 0); return },
		func() (err error) { x, err = n.conv(m, "conv2/3x3", x, c.Conv2, 3, 1, 1); return },
		func() (err error) {
			if !c.NoLRN {
				x, err = n.lrn("conv2/norm2", x, lrnOpts)
			}
			return
		},
		func() (err error) { x, err = n.maxPool("pool2", x, pool3); return },
	}
	for _, s := range steps {
		if err := s(); err != nil {
			return err
		}
	}
	last := -1
	for i, r := range c.Table {
		if r.MaxPoolBefore {
			last = i
		}
	}
	pool := 3
	type auxAt struct {
		k int
		x *act
	}
	var aux []auxAt
	for i, r := range c.Table {
		if r.MaxPoolBefore {
			o := pool3
			if i == last {
				o.KernelH, o.KernelW = c.LastPoolKernel, c.LastPoolKernel
			}
			if x, err = n.maxPool(fmt.Sprintf("pool%d", pool), x, o); err != nil {
				return err
			}
			pool++
		}
		if x, err = n.module(m, "inception_"+r.Name, x, r); err != nil {
			return err
		}
		if r.Aux > 0 {
			aux = append(aux, auxAt{r.Aux, x})
		}
	}
	// Global average pool (the paper's 7x7/1 at 224x224).
	gp, err := NewPoolGeom(n.batch, x.c, x.h, x.w, ops.PoolOpts{KernelH: x.h, KernelW: x.w})
	if err != nil {
		return err
	}
	pooled, err := n.newAct(x.c, 1, 1)
	if err != nil {
		return err
	}
	in := x
	n.layers = append(n.layers, netLayer{name: "pool5/7x7_s1",
		forward: func() error { return n.d.AvgPoolForward(gp, in.p, pooled.p) },
		backward: func() error {
			if err := n.d.AvgPoolBackward(gp, pooled.g, n.tmp); err != nil {
				return err
			}
			return n.accumulate(in.g, in.size(n.batch))
		}})
	// The main classifier goes first in n.heads; the auxiliary heads are
	// built after it but draw their dropout indices first, as in the CPU
	// graph, which builds them inline after their modules.
	n.nDrop = len(aux) // one dropout per auxiliary head
	dropped, err := n.dropout("pool5/drop_7x7_s1", pooled, c.Dropout)
	if err != nil {
		return err
	}
	if n.logits, err = n.linear(m, "loss3/classifier", dropped, c.Classes, false); err != nil {
		return err
	}
	if err := n.head(n.logits, 1); err != nil {
		return err
	}
	n.nDrop = 0
	for _, a := range aux {
		if err := n.auxHead(m, a.k, a.x); err != nil {
			return err
		}
	}
	if n.tmp, err = n.alloc(n.tmpN); err != nil {
		return err
	}
	if n.dz, err = n.alloc(n.dzN); err != nil {
		return err
	}
	n.labels, err = n.alloc(n.batch)
	return err
}

// module adds one Inception module: four branches (1x1, 3x3, 5x5,
// pool-proj) whose last convolutions write straight into their channel
// ranges of the module's output, in that order (the concat costs neither a
// copy nor a buffer).
func (n *Net) module(m *inception.Model, name string, x *act, r inception.Row) (*act, error) {
	k := n.cfg.Branch3Kernel
	total := r.C1x1 + r.C3x3 + r.C5x5 + r.PoolProj
	out, err := n.newAct(total, x.h, x.w)
	if err != nil {
		return nil, err
	}
	hw := x.h * x.w
	off := 0
	view := func(c int) *act {
		v := &act{p: out.p.Add(off * hw), g: out.g.Add(off * hw), c: c, h: x.h, w: x.w, stride: total * hw}
		off += c
		return v
	}
	if _, err := n.convInto(m, name+"/1x1", x, r.C1x1, 1, 1, 0, view(r.C1x1)); err != nil {
		return nil, err
	}
	b2, err := n.conv(m, name+"/3x3_reduce", x, r.C3x3Reduce, 1, 1, 0)
	if err != nil {
		return nil, err
	}
	if _, err := n.convInto(m, name+"/3x3", b2, r.C3x3, 3, 1, 1, view(r.C3x3)); err != nil {
		return nil, err
	}
	b3, err := n.conv(m, name+"/5x5_reduce", x, r.C5x5Reduce, 1, 1, 0)
	if err != nil {
		return nil, err
	}
	if _, err := n.convInto(m, name+"/5x5", b3, r.C5x5, k, 1, k/2, view(r.C5x5)); err != nil {
		return nil, err
	}
	b4, err := n.maxPool(name+"/pool", x, ops.PoolOpts{KernelH: 3, KernelW: 3, Pad: ops.Same(1)})
	if err != nil {
		return nil, err
	}
	if _, err := n.convInto(m, name+"/pool_proj", b4, r.PoolProj, 1, 1, 0, view(r.PoolProj)); err != nil {
		return nil, err
	}
	return out, nil
}

// linear adds a fully connected layer name (parameters name/w [out,in],
// name/b) on x flattened to [batch, c*h*w], with an optional ReLU.
func (n *Net) linear(m *inception.Model, name string, x *act, out int, relu bool) (*act, error) {
	in := x.c * x.h * x.w
	w, err := n.param(m, name+"/w", out, in)
	if err != nil {
		return nil, err
	}
	b, err := n.param(m, name+"/b", out)
	if err != nil {
		return nil, err
	}
	y, err := n.newAct(out, 1, 1)
	if err != nil {
		return nil, err
	}
	if relu {
		n.dzN = max(n.dzN, y.size(n.batch))
	}
	n.layers = append(n.layers, netLayer{name: name,
		forward: func() error { return n.d.Linear(x.p, w.w, b.w, y.p, n.batch, in, out, relu) },
		backward: func() error {
			dz := y.g
			if relu {
				dz = n.dz
				if err := n.d.ReLUBackward(y.p, y.g, dz, y.size(n.batch)); err != nil {
					return err
				}
			}
			// dW[out,in] = dZᵀ·X; db = Σ_n dZ; dX = dZ·W.
			if err := n.d.Gemm(true, false, out, in, n.batch, 1, dz, out, x.p, in, 0, w.g, in); err != nil {
				return err
			}
			if err := n.d.BiasGrad(dz, b.g, n.batch, out, 1); err != nil {
				return err
			}
			if err := n.d.Gemm(false, false, n.batch, in, out, 1, dz, out, w.w, in, 0, n.tmp, in); err != nil {
				return err
			}
			return n.accumulate(x.g, x.size(n.batch))
		}})
	return y, nil
}

// dropout adds the model's next dropout op (ops index in build order); rate
// 0 is the identity, as in the CPU graph, but still takes an index.
func (n *Net) dropout(name string, x *act, rate float64) (*act, error) {
	index := n.nDrop
	n.nDrop++
	if rate == 0 {
		return x, nil
	}
	y, err := n.newAct(x.c, x.h, x.w)
	if err != nil {
		return nil, err
	}
	size := y.size(n.batch)
	n.layers = append(n.layers, netLayer{name: name,
		forward: func() error { return n.d.Dropout(x.p, y.p, size, n.seed, n.step, index, rate) },
		backward: func() error {
			if err := n.d.Dropout(y.g, n.tmp, size, n.seed, n.step, index, rate); err != nil {
				return err
			}
			return n.accumulate(x.g, size)
		}})
	return y, nil
}

// avgPool adds an average pool.
func (n *Net) avgPool(name string, x *act, o ops.PoolOpts) (*act, error) {
	pg, err := NewPoolGeom(n.batch, x.c, x.h, x.w, o)
	if err != nil {
		return nil, errors.Wrapf(err, "cuda: NewNet: %s", name)
	}
	y, err := n.newAct(x.c, pg.OutH, pg.OutW)
	if err != nil {
		return nil, err
	}
	n.layers = append(n.layers, netLayer{name: name,
		forward: func() error { return n.d.AvgPoolForward(pg, x.p, y.p) },
		backward: func() error {
			if err := n.d.AvgPoolBackward(pg, y.g, n.tmp); err != nil {
				return err
			}
			return n.accumulate(x.g, x.size(n.batch))
		}})
	return y, nil
}

// head adds a loss head on logits with the given weight.
func (n *Net) head(logits *act, weight float64) error {
	p, err := n.alloc(n.batch)
	if err != nil {
		return err
	}
	n.heads = append(n.heads, lossHead{logits: logits, weight: weight, losses: p})
	return nil
}

// auxHead adds auxiliary classifier k on x (package inception's auxHead).
func (n *Net) auxHead(m *inception.Model, k int, x *act) error {
	c := n.cfg
	scope := fmt.Sprintf("loss%d", k)
	y, err := n.avgPool(scope+"/ave_pool", x, ops.PoolOpts{KernelH: 5, KernelW: 5, StrideH: 3, StrideW: 3, CeilMode: true})
	if err != nil {
		return err
	}
	if y, err = n.conv(m, scope+"/conv", y, c.AuxConv, 1, 1, 0); err != nil {
		return err
	}
	if y, err = n.linear(m, scope+"/fc", y, c.AuxFC, true); err != nil {
		return err
	}
	if y, err = n.dropout(scope+"/drop_fc", y, c.AuxDropout); err != nil {
		return err
	}
	if y, err = n.linear(m, scope+"/classifier", y, c.Classes, false); err != nil {
		return err
	}
	return n.head(y, 0) // Step weighs it by n.AuxWeight
}

func (n *Net) upload(x []float32) error {
	if len(x) != n.input.size(n.batch) {
		return errors.Errorf("cuda: Net: input has %d values, want %d ([%d,%d,%d,%d])",
			len(x), n.input.size(n.batch), n.batch, n.input.c, n.input.h, n.input.w)
	}
	return errors.Wrap(n.d.ex.Upload(n.input.p, x), "cuda: Net: uploading the batch")
}

func (n *Net) forward() error {
	for _, l := range n.layers {
		if err := l.forward(); err != nil {
			return errors.Wrapf(err, "cuda: Net: forward %s", l.name)
		}
	}
	return nil
}

// Logits runs the forward pass on x [batch, C, H, W] and returns the
// logits [batch, Classes].
func (n *Net) Logits(x []float32) ([]float32, error) {
	if err := n.upload(x); err != nil {
		return nil, err
	}
	if err := n.forward(); err != nil {
		return nil, err
	}
	out := make([]float32, n.logits.size(n.batch))
	return out, errors.Wrap(n.d.ex.Download(out, n.logits.p), "cuda: Net: downloading logits")
}

// Step runs forward and backward on x with the given labels and returns
// the losses (batch means; Total = Main + AuxWeight·(Aux1 + Aux2), as
// Model.Step). The gradients stay on the device (see Grad, SGD). Like
// Model.Step it then advances the dropout step.
func (n *Net) Step(x []float32, labels []int32) (inception.Losses, error) {
	var ls inception.Losses
	if len(labels) != n.batch {
		return ls, errors.Errorf("cuda: Net: %d labels for a batch of %d", len(labels), n.batch)
	}
	for i, l := range labels {
		if l < 0 || int(l) >= n.cfg.Classes {
			return ls, errors.Errorf("cuda: Net: label %d at %d out of range [0,%d)", l, i, n.cfg.Classes)
		}
	}
	if err := n.upload(x); err != nil {
		return ls, err
	}
	if err := n.d.ex.UploadInt32(n.labels, labels); err != nil {
		return ls, errors.Wrap(err, "cuda: Net: uploading labels")
	}
	if err := n.forward(); err != nil {
		return ls, err
	}
	for _, a := range n.acts {
		if err := n.d.Fill(a.g, 0, a.size(n.batch)); err != nil {
			return ls, err
		}
	}
	// Each head's loss gradient is written straight into its logits'
	// gradient, scaled by its weight in the total and by 1/batch (the
	// batch mean).
	for i, h := range n.heads {
		w := h.weight
		if i > 0 {
			w = n.AuxWeight
		}
		if err := n.d.SoftmaxCrossEntropy(h.logits.p, n.labels, h.losses, h.logits.g, n.batch, n.cfg.Classes,
			float32(w/float64(n.batch))); err != nil {
			return ls, err
		}
	}
	for i := len(n.layers) - 1; i >= 0; i-- {
		if err := n.layers[i].backward(); err != nil {
			return ls, errors.Wrapf(err, "cuda: Net: backward %s", n.layers[i].name)
		}
	}
	means := make([]float64, len(n.heads))
	losses := make([]float32, n.batch)
	for i, h := range n.heads {
		if err := n.d.ex.Download(losses, h.losses); err != nil {
			return ls, errors.Wrap(err, "cuda: Net: downloading the loss")
		}
		for _, l := range losses {
			means[i] += float64(l)
		}
		means[i] /= float64(n.batch)
	}
	ls.Main, ls.Total = means[0], means[0]
	for i, v := range means[1:] {
		if i == 0 {
			ls.Aux1 = v
		} else {
			ls.Aux2 = v
		}
		ls.Total += n.AuxWeight * v
	}
	n.step++
	return ls, nil
}

// Rand returns the dropout seed and the step the next Step draws its masks
// for (the model's RandState when the Net was made, advanced per Step).
func (n *Net) Rand() ops.RandState { return ops.RandState{Seed: n.seed, Step: n.step} }

// SetRand sets the dropout seed and step (to resume a run).
func (n *Net) SetRand(st ops.RandState) { n.seed, n.step = st.Seed, st.Step }

// SGD applies PyTorch's SGD with momentum mu and weight decay wd to every
// parameter, on the device.
func (n *Net) SGD(lr, mu, wd float32) error {
	for _, p := range n.params {
		if err := n.d.SGDMomentum(p.w, p.g, p.v, p.n, lr, mu, wd); err != nil {
			return errors.Wrapf(err, "cuda: Net: SGD on %s", p.name)
		}
	}
	return nil
}

// ParamNames returns the parameter names, sorted.
func (n *Net) ParamNames() []string {
	names := make([]string, 0, len(n.params))
	for _, p := range n.params {
		names = append(names, p.name)
	}
	sort.Strings(names)
	return names
}

func (n *Net) get(name string, grad bool) ([]float32, error) {
	p, ok := n.byName[name]
	if !ok {
		return nil, errors.Errorf("cuda: Net: no parameter %q", name)
	}
	v := make([]float32, p.n)
	src := p.w
	if grad {
		src = p.g
	}
	return v, errors.Wrapf(n.d.ex.Download(v, src), "cuda: Net: downloading %s", name)
}

// Grad downloads the gradient of parameter name from the last Step.
func (n *Net) Grad(name string) ([]float32, error) { return n.get(name, true) }

// Weight downloads the current value of parameter name.
func (n *Net) Weight(name string) ([]float32, error) { return n.get(name, false) }

// Close returns the network's device buffers to the pool.
func (n *Net) Close() error {
	var first error
	for _, p := range n.bufs {
		if err := n.d.pool.Put(p); err != nil && first == nil {
			first = err
		}
	}
	n.bufs = nil
	return first
}

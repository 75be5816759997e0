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
// Net covers the paper topology of package inception (conv stem with LRN,
// the Inception modules of Config.Table with their max pools, global
// average pool, linear classifier, softmax cross-entropy) and rejects what
// it does not implement on the device: batch norm, the small stem, naive
// modules, dropout (Config.Dropout must be 0) and the auxiliary heads
// (Config.AuxWeight must be 0; rows with Aux are then built without them).
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
	losses Ptr
	tmp    Ptr // scratch for gradients that accumulate (fan-out)
	tmpN   int
	bufs   []Ptr
}

type netParam struct {
	name  string
	n     int
	w, g  Ptr
	v     Ptr // momentum
	shape []int
}

// act is one activation [batch, c, h, w] and its gradient.
type act struct {
	p, g    Ptr
	c, h, w int
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
	case c.Dropout != 0:
		return nil, errors.Errorf("cuda: NewNet: dropout %g is not implemented on the device (set Config.Dropout to 0)", c.Dropout)
	case c.AuxWeight != 0 && hasAux(c.Table):
		return nil, errors.New("cuda: NewNet: auxiliary heads are not implemented on the device (set Config.AuxWeight to 0)")
	}
	n := &Net{d: d, batch: batch, cfg: c, byName: map[string]*netParam{}}
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
// name/w, name/b).
func (n *Net) conv(m *inception.Model, name string, in *act, k, r, stride, pad int) (*act, error) {
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
	out, err := n.newAct(k, oh, ow)
	if err != nil {
		return nil, err
	}
	dz, err := n.alloc(out.size(n.batch))
	if err != nil {
		return nil, err
	}
	n.layers = append(n.layers, netLayer{name: name,
		forward: func() error { return n.d.ConvForward(g, in.p, w.w, b.w, out.p, true) },
		backward: func() error {
			sz := out.size(n.batch)
			if err := n.d.ReLUBackward(out.p, out.g, dz, sz); err != nil {
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

func (n *Net) concat(name string, ins []*act) (*act, error) {
	total := 0
	chans := make([]int, len(ins))
	srcs := make([]Ptr, len(ins))
	for i, a := range ins {
		total += a.c
		chans[i], srcs[i] = a.c, a.p
	}
	out, err := n.newAct(total, ins[0].h, ins[0].w)
	if err != nil {
		return nil, err
	}
	hw := out.h * out.w
	n.layers = append(n.layers, netLayer{name: name,
		forward: func() error { return n.d.ConcatChannels(out.p, n.batch, hw, srcs, chans) },
		backward: func() error {
			off := 0
			for _, a := range ins {
				if err := n.d.ChannelCopy(out.g, total, off, n.tmp, a.c, 0, a.c, n.batch, hw); err != nil {
					return err
				}
				if err := n.accumulate(a.g, a.size(n.batch)); err != nil {
					return err
				}
				off += a.c
			}
			return nil
		}})
	return out, nil
}

// lrnOpts are bvlc_googlenet's LRN settings (as package inception).
var lrnOpts = ops.LRNOpts{Size: 5, Alpha: 1e-4, Beta: 0.75, K: 1}

func (n *Net) build(m *inception.Model) error {
	c := n.cfg
	x, err := n.newAct(c.InChannels, c.InputSize, c.InputSize)
	if err != nil {
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
	if err := n.classifier(m, pooled); err != nil {
		return err
	}
	if n.tmp, err = n.alloc(n.tmpN); err != nil {
		return err
	}
	if n.labels, err = n.alloc(n.batch); err != nil {
		return err
	}
	n.losses, err = n.alloc(n.batch)
	return err
}

// module adds one Inception module: four branches (1x1, 3x3, 5x5,
// pool-proj) concatenated in that order.
func (n *Net) module(m *inception.Model, name string, x *act, r inception.Row) (*act, error) {
	b1, err := n.conv(m, name+"/1x1", x, r.C1x1, 1, 1, 0)
	if err != nil {
		return nil, err
	}
	b2, err := n.conv(m, name+"/3x3_reduce", x, r.C3x3Reduce, 1, 1, 0)
	if err != nil {
		return nil, err
	}
	if b2, err = n.conv(m, name+"/3x3", b2, r.C3x3, 3, 1, 1); err != nil {
		return nil, err
	}
	k := n.cfg.Branch3Kernel
	b3, err := n.conv(m, name+"/5x5_reduce", x, r.C5x5Reduce, 1, 1, 0)
	if err != nil {
		return nil, err
	}
	if b3, err = n.conv(m, name+"/5x5", b3, r.C5x5, k, 1, k/2); err != nil {
		return nil, err
	}
	b4, err := n.maxPool(name+"/pool", x, ops.PoolOpts{KernelH: 3, KernelW: 3, Pad: ops.Same(1)})
	if err != nil {
		return nil, err
	}
	if b4, err = n.conv(m, name+"/pool_proj", b4, r.PoolProj, 1, 1, 0); err != nil {
		return nil, err
	}
	return n.concat(name+"/output", []*act{b1, b2, b3, b4})
}

func (n *Net) classifier(m *inception.Model, x *act) error {
	in, out := x.c, n.cfg.Classes
	w, err := n.param(m, "loss3/classifier/w", out, in)
	if err != nil {
		return err
	}
	b, err := n.param(m, "loss3/classifier/b", out)
	if err != nil {
		return err
	}
	logits, err := n.newAct(out, 1, 1)
	if err != nil {
		return err
	}
	n.logits = logits
	n.layers = append(n.layers, netLayer{name: "loss3/classifier",
		forward: func() error { return n.d.Linear(x.p, w.w, b.w, logits.p, n.batch, in, out, false) },
		backward: func() error {
			// dW[out,in] = dYᵀ·X; db = Σ_n dY; dX = dY·W.
			if err := n.d.Gemm(true, false, out, in, n.batch, 1, logits.g, out, x.p, in, 0, w.g, in); err != nil {
				return err
			}
			if err := n.d.BiasGrad(logits.g, b.g, n.batch, out, 1); err != nil {
				return err
			}
			if err := n.d.Gemm(false, false, n.batch, in, out, 1, logits.g, out, w.w, in, 0, n.tmp, in); err != nil {
				return err
			}
			return n.accumulate(x.g, x.size(n.batch))
		}})
	return nil
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

// Step runs forward and backward on x with the given labels and returns the
// mean softmax cross-entropy loss. The gradients stay on the device (see
// Grad, SGD).
func (n *Net) Step(x []float32, labels []int32) (float64, error) {
	if len(labels) != n.batch {
		return 0, errors.Errorf("cuda: Net: %d labels for a batch of %d", len(labels), n.batch)
	}
	for i, l := range labels {
		if l < 0 || int(l) >= n.cfg.Classes {
			return 0, errors.Errorf("cuda: Net: label %d at %d out of range [0,%d)", l, i, n.cfg.Classes)
		}
	}
	if err := n.upload(x); err != nil {
		return 0, err
	}
	if err := n.d.ex.UploadInt32(n.labels, labels); err != nil {
		return 0, errors.Wrap(err, "cuda: Net: uploading labels")
	}
	if err := n.forward(); err != nil {
		return 0, err
	}
	for _, a := range n.acts {
		if err := n.d.Fill(a.g, 0, a.size(n.batch)); err != nil {
			return 0, err
		}
	}
	if err := n.d.SoftmaxCrossEntropy(n.logits.p, n.labels, n.losses, n.logits.g, n.batch, n.cfg.Classes,
		1/float32(n.batch)); err != nil {
		return 0, err
	}
	for i := len(n.layers) - 1; i >= 0; i-- {
		if err := n.layers[i].backward(); err != nil {
			return 0, errors.Wrapf(err, "cuda: Net: backward %s", n.layers[i].name)
		}
	}
	losses := make([]float32, n.batch)
	if err := n.d.ex.Download(losses, n.losses); err != nil {
		return 0, errors.Wrap(err, "cuda: Net: downloading the loss")
	}
	s := 0.0
	for _, l := range losses {
		s += float64(l)
	}
	return s / float64(n.batch), nil
}

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

package cuda

import (
	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/goinception/googlenet/graph"
	"github.com/goinception/googlenet/ops"
)

// Source is what NewNet builds a device network from: a network
// description (graph.Builder's Network: layers in build order with their
// kinds, options, input layers, shapes and parameter names), the values of
// its parameters, its dropout state and the weight of its auxiliary
// losses. *inception.Model is one; so is any model built with package
// graph that offers these four methods.
type Source interface {
	Network() []graph.Layer
	Param(name string) (*graph.Param, bool)
	Rand() *ops.RandState
	AuxWeight() float64
}

// Losses are the losses of one training step, each the mean over the
// batch: the main loss, the auxiliary losses (in the order the description
// lists them) and Total = Main + AuxWeight·(Aux1 + Aux2), the loss that was
// differentiated.
type Losses struct {
	Main, Aux1, Aux2 float64
	Total            float64
}

// Net is a network whose whole training step runs on the device: the
// weights, their gradients and momentum buffers, every activation and every
// activation gradient stay device-resident. Per step only the input batch
// and the labels go up and the per-image losses come down.
//
// NewNet walks the description of its Source layer by layer, so any
// network the builder makes runs here when its layers are ones the device
// implements: convolutions (with or without bias, fused ReLU or none, batch
// norm), max and average pooling (ceil mode, padding), global and adaptive
// average pooling, batch norm, LRN, dropout, flatten, linear layers (with
// ReLU or none), channel concatenation, and softmax cross-entropy losses
// (main and auxiliary). Dropout masks are those of the CPU graph
// (ops.DropoutKeep with the model's seed, step and the layer's index), so a
// Net step and the CPU graph's step compute the same function. It rejects,
// naming the layer, what the device does not implement: a ReLU of its own,
// a batch norm whose scale and shift are both frozen.
//
// The solver's state lives on the device too: momentum buffers (SGD,
// Update, with each parameter's Frozen, LRMult and DecayMult) and Polyak
// averages (Average, SwapAverages); Velocity, Averaged, SyncToSource and
// their setters move it to and from the host for checkpoints (package
// train). Not safe for concurrent use.
type Net struct {
	d       *Device
	batch   int
	classes int
	params  []*netParam
	byName  map[string]*netParam
	layers  []netLayer
	acts    []*act
	input   *act
	logits  *act
	labels  Ptr
	heads   []lossHead // main classifier first, then the auxiliary heads
	seed    uint64     // dropout masks: ops.DropoutKeep(seed, step, index, i, rate)
	step    uint64

	// AuxWeight weighs the auxiliary losses in the total (from the
	// source's AuxWeight when the Net was made).
	AuxWeight float64
	tmp       Ptr // scratch for gradients that accumulate (fan-out)
	tmpN      int
	dz        Ptr // scratch for ReLU-masked output gradients (one layer at a time)
	dzN       int
	bufs      []Ptr
	bns       []*netBN // batch norms' running statistics
	// inference: built by NewNetWith with NetOptions.Inference: no
	// gradient, momentum or backward scratch buffers.
	inference bool
}

// NetOptions configure NewNetWith.
type NetOptions struct {
	// Inference builds the network for Logits and Infer only: no
	// activation gradients, parameter gradients, momentum buffers or
	// backward scratch, about half the device memory of a training Net.
	// Step, SGD, Update, Average, Grad, Velocity and their setters then
	// return an error.
	Inference bool
}

type netParam struct {
	name  string
	decay bool // weight decay applies (graph.Param.Decay: weights, not biases)
	// frozen, lrMult and decayMult are graph.Param's (SGD skips frozen
	// parameters; a multiplier of 0 means 1).
	frozen            bool
	lrMult, decayMult float64
	n                 int
	w, g              Ptr
	v                 Ptr // momentum
	shape             []int
	avg               Ptr   // Polyak average (see Average); 0 until the first
	avgN              int64 // values folded into avg
}

// lossHead is one softmax cross-entropy on logits, weighted in the total.
type lossHead struct {
	src    string // the described layer whose output the loss reads
	logits *act
	aux    bool // weighed by Net.AuxWeight; else by 1
	losses Ptr  // per image
}

// act is one activation [batch, c, h, w] and its gradient. A view act is a
// channel slice of a wider act (image stride > c*h*w): convolutions whose
// only reader is a concatenation write straight into its output.
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
	// eval is the inference forward where it differs (dropout is the
	// identity); nil means forward.
	eval func() error
	// train marks layers only training needs (the auxiliary heads), which
	// inference skips.
	train bool
	// desc is the described layer this work belongs to (a convolution's
	// batch norm belongs to the convolution).
	desc string
}

// NewNet builds the device network of src's description for batches of
// batch images and uploads src's current weights.
func NewNet(d *Device, src Source, batch int) (*Net, error) {
	return NewNetWith(d, src, batch, NetOptions{})
}

// NewNetWith is NewNet configured by o.
func NewNetWith(d *Device, src Source, batch int, o NetOptions) (*Net, error) {
	if batch <= 0 {
		return nil, errors.Errorf("cuda: NewNet: batch %d", batch)
	}
	rs := src.Rand()
	n := &Net{d: d, batch: batch, byName: map[string]*netParam{}, seed: rs.Seed, step: rs.Step,
		AuxWeight: src.AuxWeight(), inference: o.Inference}
	if err := n.build(src); err != nil {
		n.Close()
		return nil, err
	}
	return n, nil
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
	if n.inference {
		n.acts = append(n.acts, a)
		return a, nil
	}
	if a.g, err = n.alloc(a.size(n.batch)); err != nil {
		return nil, err
	}
	n.acts = append(n.acts, a)
	n.tmpN = max(n.tmpN, a.size(n.batch))
	return a, nil
}

// param uploads the source's parameter name, which must have the given
// shape.
func (n *Net) param(src Source, name string, shape ...int) (*netParam, error) {
	mp, ok := src.Param(name)
	if !ok {
		return nil, errors.Errorf("cuda: NewNet: the model has no parameter %q", name)
	}
	size := 1
	for _, s := range shape {
		size *= s
	}
	vals, err := float32s(mp.Value)
	if err != nil {
		return nil, errors.Wrapf(err, "cuda: NewNet: %s", name)
	}
	if len(vals) != size {
		return nil, errors.Errorf("cuda: NewNet: %s has %d values, want %v", name, len(vals), shape)
	}
	p := &netParam{name: name, decay: mp.Decay, frozen: mp.Frozen, lrMult: mp.LRMult, decayMult: mp.DecayMult, n: size, shape: shape}
	bufs := []*Ptr{&p.w, &p.g, &p.v}
	if n.inference {
		bufs = bufs[:1]
	}
	for _, dst := range bufs {
		if *dst, err = n.alloc(size); err != nil {
			return nil, err
		}
	}
	if err := n.d.ex.Upload(p.w, vals); err != nil {
		return nil, errors.Wrapf(err, "cuda: NewNet: uploading %s", name)
	}
	if !n.inference {
		if err := n.d.Fill(p.v, 0, size); err != nil {
			return nil, err
		}
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

// walker is the state of one walk over a description.
type walker struct {
	n    *Net
	src  Source
	out  map[string]*act // each layer's output
	uses map[string]int  // how many layers read each layer's output
	// views: a convolution whose only reader is a concatenation writes
	// into its channel range of the concatenation's output (no copy, no
	// buffer of its own).
	viewOf map[string]concatSlot
	cat    map[string]*act // outputs of concatenations, made on first use
	byName map[string]graph.Layer
}

type concatSlot struct {
	concat string
	off    int
}

// build walks src's description in build order.
func (n *Net) build(src Source) error {
	layers := src.Network()
	w := &walker{n: n, src: src, out: map[string]*act{}, uses: map[string]int{},
		viewOf: map[string]concatSlot{}, cat: map[string]*act{}, byName: map[string]graph.Layer{}}
	for _, l := range layers {
		w.byName[l.Name] = l
		for _, in := range l.Inputs {
			w.uses[in]++
		}
	}
	for _, l := range layers {
		if l.Type != graph.KindConcat {
			continue
		}
		off := 0
		for _, in := range l.Inputs {
			if p, ok := w.byName[in]; ok && p.Type == graph.KindConv && w.uses[in] == 1 && !p.Conv.BatchNorm {
				w.viewOf[in] = concatSlot{concat: l.Name, off: off}
			}
			off += p4(w.byName[in].OutShape, 1)
		}
	}
	for _, l := range layers {
		first := len(n.layers)
		if err := w.layer(l); err != nil {
			return errors.Wrapf(err, "cuda: NewNet: layer %s (%s)", l.Name, l.Type)
		}
		for i := first; i < len(n.layers); i++ {
			n.layers[i].desc = l.Name
		}
	}
	switch {
	case n.input == nil:
		return errors.New("cuda: NewNet: the description has no input")
	case len(n.heads) == 0:
		return errors.New("cuda: NewNet: the description has no softmax cross-entropy loss")
	}
	// The main head first, then the auxiliary ones in description order.
	var heads []lossHead
	for _, aux := range []bool{false, true} {
		for _, h := range n.heads {
			if h.aux == aux {
				heads = append(heads, h)
			}
		}
	}
	if heads[0].aux {
		return errors.New("cuda: NewNet: the description has only auxiliary losses")
	}
	if len(heads) > 3 {
		return errors.Errorf("cuda: NewNet: %d losses; Losses holds a main and two auxiliary ones", len(heads))
	}
	n.heads, n.logits = heads, heads[0].logits
	n.classes = n.logits.c
	// Inference runs only what the main head's logits depend on.
	need := map[string]bool{}
	var mark func(name string)
	mark = func(name string) {
		if need[name] {
			return
		}
		need[name] = true
		for _, in := range w.byName[name].Inputs {
			mark(in)
		}
	}
	mark(heads[0].src)
	for i := range n.layers {
		n.layers[i].train = !need[n.layers[i].desc]
	}
	for _, h := range heads {
		if h.logits.c != n.classes {
			return errors.Errorf("cuda: NewNet: losses over %d and %d classes", n.classes, h.logits.c)
		}
	}
	if n.inference {
		return nil
	}
	var err error
	if n.tmp, err = n.alloc(max(n.tmpN, 1)); err != nil {
		return err
	}
	if n.dz, err = n.alloc(max(n.dzN, 1)); err != nil {
		return err
	}
	n.labels, err = n.alloc(n.batch)
	return err
}

// p4 returns dimension i of a shape, or 1 beyond it.
func p4(shape []int, i int) int {
	if i < len(shape) {
		return shape[i]
	}
	return 1
}

// chw returns the per-image shape of a layer's output as channels, height,
// width (a [N,F] output is F x 1 x 1).
func chw(shape []int) (c, h, w int) { return p4(shape, 1), p4(shape, 2), p4(shape, 3) }

// in returns the output of the layer's i-th input.
func (w *walker) in(l graph.Layer, i int) (*act, error) {
	if i >= len(l.Inputs) {
		return nil, errors.Errorf("%d inputs, want %d", len(l.Inputs), i+1)
	}
	a, ok := w.out[l.Inputs[i]]
	if !ok {
		return nil, errors.Errorf("input %q is not a layer of the description", l.Inputs[i])
	}
	return a, nil
}

// layer adds the device work of one described layer.
func (w *walker) layer(l graph.Layer) error {
	n := w.n
	if l.Type == graph.KindInput {
		if n.input != nil {
			return errors.New("a second input; the device network takes one")
		}
		c, h, wd := chw(l.OutShape)
		// The input batch needs no gradient buffer (the first convolution
		// skips its data gradient).
		x := &act{c: c, h: h, w: wd}
		var err error
		if x.p, err = n.alloc(x.size(n.batch)); err != nil {
			return err
		}
		n.input, w.out[l.Name] = x, x
		return nil
	}
	x, err := w.in(l, 0)
	if err != nil {
		return err
	}
	var y *act
	switch l.Type {
	case graph.KindConv:
		y, err = w.conv(l, x)
	case graph.KindMaxPool, graph.KindAvgPool:
		y, err = n.pool(l.Name, x, l.Type == graph.KindMaxPool, l.Pool.Ops())
	case graph.KindGlobalAvgPool:
		y, err = n.pool(l.Name, x, false, ops.PoolOpts{KernelH: x.h, KernelW: x.w})
	case graph.KindAdaptiveAvgPool:
		a := l.Adaptive
		if x.h%a.OutH != 0 || x.w%a.OutW != 0 {
			y, err = n.adaptivePool(l.Name, x, a.OutH, a.OutW)
			break
		}
		kh, kw := x.h/a.OutH, x.w/a.OutW
		y, err = n.pool(l.Name, x, false, ops.PoolOpts{KernelH: kh, KernelW: kw, StrideH: kh, StrideW: kw})
	case graph.KindLRN:
		y, err = n.lrn(l.Name, x, *l.LRN)
	case graph.KindDropout:
		y, err = n.dropout(l.Name, x, *l.Dropout)
	case graph.KindFlatten:
		if x.stride > 0 {
			return errors.New("flatten of a channel view")
		}
		// The same memory read as [batch, c*h*w].
		y = &act{p: x.p, g: x.g, c: x.c * x.h * x.w, h: 1, w: 1}
	case graph.KindLinear:
		y, err = w.linear(l, x)
	case graph.KindConcat:
		y, err = w.concat(l)
	case graph.KindSoftmaxCrossEntropy:
		if x.h != 1 || x.w != 1 {
			return errors.Errorf("loss on %dx%dx%d logits, want [N,K]", x.c, x.h, x.w)
		}
		p, err := n.alloc(n.batch)
		if err != nil {
			return err
		}
		n.heads = append(n.heads, lossHead{src: l.Inputs[0], logits: x, aux: l.Loss.Aux, losses: p})
		return nil
	case graph.KindBatchNorm:
		if len(l.ParamNames) != 2 {
			return errors.Errorf("batch norm with %d parameters, want scale and shift", len(l.ParamNames))
		}
		y, err = w.batchNorm(l.Name, l.ParamNames[0], l.ParamNames[1], x, false)
	case graph.KindReLU:
		return errors.New("a ReLU layer of its own is not implemented on the device (only fused into a convolution or linear layer)")
	default:
		return errors.Errorf("kind %q is not implemented on the device", l.Type)
	}
	if err != nil {
		return err
	}
	if c, h, wd := chw(l.OutShape); y.c != c || y.h != h || y.w != wd {
		return errors.Errorf("device output %dx%dx%d, the description says %v", y.c, y.h, y.w, l.OutShape)
	}
	w.out[l.Name] = y
	return nil
}

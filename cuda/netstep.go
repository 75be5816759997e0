package cuda

import (
	"sort"

	"github.com/pkg/errors"

	"github.com/goinception/googlenet/ops"
)

// This file runs a built Net: forward, the training step, the SGD update
// and the parameter accessors.

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

// evalForward runs inference: the layers the main logits need, dropout
// as the identity.
func (n *Net) evalForward() error {
	for _, l := range n.layers {
		if l.train {
			continue
		}
		f := l.forward
		if l.eval != nil {
			f = l.eval
		}
		if err := f(); err != nil {
			return errors.Wrapf(err, "cuda: Net: forward %s", l.name)
		}
	}
	return nil
}

// Logits runs inference on x [batch, C, H, W] and returns the main
// head's logits [batch, Classes]: evaluation mode, as the CPU model's
// Forward and torchvision's eval(): no dropout, and the auxiliary heads are
// not computed. The dropout step does not advance.
func (n *Net) Logits(x []float32) ([]float32, error) {
	if err := n.upload(x); err != nil {
		return nil, err
	}
	if err := n.evalForward(); err != nil {
		return nil, err
	}
	out := make([]float32, n.logits.size(n.batch))
	return out, errors.Wrap(n.d.ex.Download(out, n.logits.p), "cuda: Net: downloading logits")
}

// Step runs forward and backward on x with the given labels and returns
// the losses (batch means; Total = Main + AuxWeight·(Aux1 + Aux2), as the
// CPU graph's step). The gradients stay on the device (see Grad, SGD).
// Like the CPU graph's step it then advances the dropout step.
func (n *Net) Step(x []float32, labels []int32) (Losses, error) {
	var ls Losses
	if err := n.training("Step"); err != nil {
		return ls, err
	}
	if len(labels) != n.batch {
		return ls, errors.Errorf("cuda: Net: %d labels for a batch of %d", len(labels), n.batch)
	}
	for i, l := range labels {
		if l < 0 || int(l) >= n.classes {
			return ls, errors.Errorf("cuda: Net: label %d at %d out of range [0,%d)", l, i, n.classes)
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
	for _, h := range n.heads {
		w := 1.0
		if h.aux {
			w = n.AuxWeight
		}
		if err := n.d.SoftmaxCrossEntropy(h.logits.p, n.labels, h.losses, h.logits.g, n.batch, n.classes,
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

// SGD applies PyTorch's SGD with momentum mu to every parameter that is
// not frozen, on the device, with weight decay wd on the parameters the
// description marks for it (graph.Param.Decay: weights, not biases), as
// package solvers' SGD does on the CPU. Each parameter's LRMult and
// DecayMult (graph.Param's when the Net was made; 0 means 1) multiply lr
// and wd. A momentum buffer starts at zero, so the first step's velocity
// is the gradient, as solvers.SGD's.
func (n *Net) SGD(lr, mu, wd float32) error { return n.Update(float64(lr), float64(mu), float64(wd)) }

// Update is SGD with the rates in float64, as package solvers computes
// them: each parameter's rate lr·LRMult and decay wd·DecayMult are
// formed in float64 and rounded to float32 once, as solvers.SGD rounds
// them for its float32 update.
func (n *Net) Update(lr, mu, wd float64) error {
	if err := n.training("SGD"); err != nil {
		return err
	}
	for _, p := range n.params {
		if p.frozen {
			continue
		}
		plr, pwd := lr*mult(p.lrMult), wd*mult(p.decayMult)
		if !p.decay {
			pwd = 0
		}
		if err := n.d.SGDMomentum(p.w, p.g, p.v, p.n, float32(plr), float32(mu), float32(pwd)); err != nil {
			return errors.Wrapf(err, "cuda: Net: SGD on %s", p.name)
		}
	}
	return nil
}

// training returns the error of calling what on an inference-only Net.
func (n *Net) training(what string) error {
	if n.inference {
		return errors.Errorf("cuda: Net.%s on a network built for inference only (NetOptions.Inference)", what)
	}
	return nil
}

// mult returns m, or 1 for 0 (graph.Param's multipliers).
func mult(m float64) float64 {
	if m == 0 {
		return 1
	}
	return m
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
		if err := n.training("Grad"); err != nil {
			return nil, err
		}
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

// Infer runs inference (Logits, evaluation mode) over images images in x
// ([images, C, H, W], any count) in batches of the Net's batch size, the
// last one padded with zeros, and returns the logits [images, Classes].
func (n *Net) Infer(x []float32, images int) ([]float32, error) {
	per := n.input.c * n.input.h * n.input.w
	if images < 0 || len(x) != images*per {
		return nil, errors.Errorf("cuda: Net.Infer: %d values for %d images of %dx%dx%d", len(x), images, n.input.c, n.input.h, n.input.w)
	}
	out := make([]float32, 0, images*n.classes)
	buf := make([]float32, n.batch*per)
	for i := 0; i < images; i += n.batch {
		j := min(images, i+n.batch)
		copy(buf, x[i*per:j*per])
		clear(buf[(j-i)*per:])
		y, err := n.Logits(buf)
		if err != nil {
			return nil, errors.Wrapf(err, "cuda: Net.Infer: images %d..%d", i, j-1)
		}
		out = append(out, y[:(j-i)*n.classes]...)
	}
	return out, nil
}

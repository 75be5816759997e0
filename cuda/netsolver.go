package cuda

import (
	"github.com/pkg/errors"
)

// This file holds a Net's solver state on the device beyond the momentum
// buffers: Polyak averages of the weights, and the accessors a trainer
// needs to write the state into a checkpoint and to resume from one.

// Average folds the current weights of every parameter that is not frozen
// into its Polyak average, on the device, as solvers.Averager.Update does:
// the first value is copied; after that the uniform mean (uniform true) is
// avg += (w - avg)/k for the k-th value and the exponential one
// avg = decay·avg + (1 - decay)·w. The averages are allocated on first use.
func (n *Net) Average(uniform bool, decay float64) error {
	if err := n.training("Average"); err != nil {
		return err
	}
	for _, p := range n.params {
		if p.frozen {
			continue
		}
		if p.avg == 0 {
			var err error
			if p.avg, err = n.alloc(p.n); err != nil {
				return errors.Wrapf(err, "cuda: Net: Polyak average of %s", p.name)
			}
		}
		p.avgN++
		var keep float64 // avg = keep·avg + (1-keep)·w
		switch {
		case p.avgN == 1:
			keep = 0
		case uniform:
			keep = 1 - 1/float64(p.avgN)
		default:
			keep = decay
		}
		var err error
		if keep == 0 {
			if err = n.d.Fill(p.avg, 0, p.n); err == nil {
				err = n.d.Axpy(1, p.w, p.avg, p.n)
			}
		} else if err = n.d.Axpy(float32(keep-1), p.avg, p.avg, p.n); err == nil {
			err = n.d.Axpy(float32(1-keep), p.w, p.avg, p.n)
		}
		if err != nil {
			return errors.Wrapf(err, "cuda: Net: Polyak average of %s", p.name)
		}
	}
	return nil
}

// HasAverages reports whether every parameter that is not frozen has a
// Polyak average (Average or SetAverage).
func (n *Net) HasAverages() bool {
	some := false
	for _, p := range n.params {
		if p.frozen {
			continue
		}
		if p.avg == 0 {
			return false
		}
		some = true
	}
	return some
}

// SwapAverages exchanges the weights of every parameter that is not frozen
// with its Polyak average (no copy: the buffers trade places), so that
// Logits runs the averaged weights; a second call swaps them back. It is an
// error before every such parameter has an average.
func (n *Net) SwapAverages() error {
	if !n.HasAverages() {
		return errors.New("cuda: Net: SwapAverages before every parameter has a Polyak average")
	}
	for _, p := range n.params {
		if !p.frozen {
			p.w, p.avg = p.avg, p.w
		}
	}
	return nil
}

func (n *Net) named(name string) (*netParam, error) {
	p, ok := n.byName[name]
	if !ok {
		return nil, errors.Errorf("cuda: Net: no parameter %q", name)
	}
	return p, nil
}

func (n *Net) download(p *netParam, src Ptr, what string) ([]float32, error) {
	v := make([]float32, p.n)
	return v, errors.Wrapf(n.d.ex.Download(v, src), "cuda: Net: downloading the %s of %s", what, p.name)
}

func (n *Net) uploadTo(p *netParam, dst Ptr, v []float32, what string) error {
	if len(v) != p.n {
		return errors.Errorf("cuda: Net: %d values for the %s of %s, want %d", len(v), what, p.name, p.n)
	}
	return errors.Wrapf(n.d.ex.Upload(dst, v), "cuda: Net: uploading the %s of %s", what, p.name)
}

// Velocity downloads the momentum buffer of parameter name.
func (n *Net) Velocity(name string) ([]float32, error) {
	if err := n.training("Velocity"); err != nil {
		return nil, err
	}
	p, err := n.named(name)
	if err != nil {
		return nil, err
	}
	return n.download(p, p.v, "momentum")
}

// SetVelocity uploads v as the momentum buffer of parameter name (to
// resume a run).
func (n *Net) SetVelocity(name string, v []float32) error {
	if err := n.training("SetVelocity"); err != nil {
		return err
	}
	p, err := n.named(name)
	if err != nil {
		return err
	}
	return n.uploadTo(p, p.v, v, "momentum")
}

// Averaged downloads the Polyak average of parameter name and the number
// of values folded into it; a parameter without an average returns nil
// and 0.
func (n *Net) Averaged(name string) ([]float32, int64, error) {
	p, err := n.named(name)
	if err != nil || p.avg == 0 {
		return nil, 0, err
	}
	v, err := n.download(p, p.avg, "Polyak average")
	return v, p.avgN, err
}

// SetAverage uploads v as the Polyak average of parameter name, with count
// values folded into it (to resume a run).
func (n *Net) SetAverage(name string, v []float32, count int64) error {
	if err := n.training("SetAverage"); err != nil {
		return err
	}
	p, err := n.named(name)
	if err != nil {
		return err
	}
	if count <= 0 {
		return errors.Errorf("cuda: Net: Polyak average of %s with count %d", name, count)
	}
	if p.avg == 0 {
		if p.avg, err = n.alloc(p.n); err != nil {
			return errors.Wrapf(err, "cuda: Net: Polyak average of %s", name)
		}
	}
	if err := n.uploadTo(p, p.avg, v, "Polyak average"); err != nil {
		return err
	}
	p.avgN = count
	return nil
}

// Frozen reports whether parameter name is frozen (graph.Param.Frozen when
// the Net was made): SGD and Average leave it alone.
func (n *Net) Frozen(name string) bool {
	p, ok := n.byName[name]
	return ok && p.frozen
}

// Batch returns the images per step, and Classes the main head's classes.
func (n *Net) Batch() int   { return n.batch }
func (n *Net) Classes() int { return n.classes }

// LastLogits downloads the main head's logits [batch, Classes] of the last
// forward pass: the training forward of Step (with dropout) or Logits.
func (n *Net) LastLogits() ([]float32, error) {
	out := make([]float32, n.logits.size(n.batch))
	return out, errors.Wrap(n.d.ex.Download(out, n.logits.p), "cuda: Net: downloading logits")
}

package cuda

import (
	"github.com/pkg/errors"

	"github.com/goinception/googlenet/graph"
	"github.com/goinception/googlenet/ops"
)

// This file adds batch normalisation to a Net: after a convolution (a
// convolution with ConvOpts.BatchNorm: no bias, batch norm, then the ReLU)
// or as a layer of its own.

// bnSource is a Source whose description has batch norms: their running
// statistics by name ("<layer>/bn"). *inception.Model and graph.Builder
// are.
type bnSource interface {
	BNStats() []graph.BNEntry
}

// netBN is one batch norm's running statistics on the device and on the
// host (the source's, which SyncBN updates).
type netBN struct {
	name        string
	host        *ops.BNStats
	rmean, rvar Ptr
	c           int
}

func (w *walker) bnStats(name string) (*ops.BNStats, error) {
	bs, ok := w.src.(bnSource)
	if !ok {
		return nil, errors.Errorf("the source has batch norm %s but no BNStats method", name)
	}
	for _, e := range bs.BNStats() {
		if e.Name == name {
			return e.Stats, nil
		}
	}
	return nil, errors.Errorf("the source has no running statistics for batch norm %s", name)
}

// batchNorm adds a batch norm of in named name (statistics name, scale
// and shift parameters scale, shift), then a ReLU if relu, and returns its
// output. Training normalises with the batch statistics and updates the
// running ones; inference (Logits) uses the running ones.
func (w *walker) batchNorm(name, scale, shift string, in *act, relu bool) (*act, error) {
	n := w.n
	if in.stride > 0 {
		return nil, errors.New("batch norm of a channel view")
	}
	st, err := w.bnStats(name)
	if err != nil {
		return nil, err
	}
	if len(st.Mean) != in.c || len(st.Var) != in.c {
		return nil, errors.Errorf("batch norm %s has statistics for %d channels, the input %d", name, len(st.Mean), in.c)
	}
	eps, mom := st.Eps, st.Momentum
	if eps == 0 {
		eps = ops.DefaultBNEps
	}
	if mom == 0 {
		mom = ops.DefaultBNMomentum
	}
	gamma, err := n.param(w.src, scale, in.c)
	if err != nil {
		return nil, err
	}
	beta, err := n.param(w.src, shift, in.c)
	if err != nil {
		return nil, err
	}
	if gamma.frozen && beta.frozen {
		// The CPU graph then normalises with the running statistics in
		// training too and leaves them alone; the device has no such
		// training step.
		return nil, errors.Errorf("batch norm %s has its scale and shift frozen, which the device does not implement (a frozen batch norm normalises with its running statistics in training)", name)
	}
	b := &netBN{name: name, host: st, c: in.c}
	var mean, invstd, bvar, einv Ptr
	for _, p := range []*Ptr{&b.rmean, &b.rvar, &mean, &invstd, &bvar, &einv} {
		if *p, err = n.alloc(in.c); err != nil {
			return nil, err
		}
	}
	if err := n.uploadBN(b); err != nil {
		return nil, err
	}
	n.bns = append(n.bns, b)
	out, err := n.newAct(in.c, in.h, in.w)
	if err != nil {
		return nil, err
	}
	size := out.size(n.batch)
	if relu {
		n.dzN = max(n.dzN, size)
	}
	g := BNGeom{N: n.batch, C: in.c, HW: in.h * in.w, Eps: eps}
	n.layers = append(n.layers, netLayer{name: name,
		forward: func() error {
			if err := n.d.BNStats(g, in.p, mean, invstd, bvar); err != nil {
				return err
			}
			if err := n.d.BNApply(g, in.p, out.p, gamma.w, beta.w, mean, invstd, relu); err != nil {
				return err
			}
			return n.d.BNRunning(g, b.rmean, b.rvar, mean, bvar, mom)
		},
		eval: func() error {
			if err := n.d.BNInvStd(g, b.rvar, einv); err != nil {
				return err
			}
			return n.d.BNApply(g, in.p, out.p, gamma.w, beta.w, b.rmean, einv, relu)
		},
		backward: func() error {
			dy := out.g
			if relu {
				dy = n.dz
				if err := n.d.ReLUBackward(out.p, out.g, dy, size); err != nil {
					return err
				}
			}
			if err := n.d.BNBackward(g, in.p, dy, gamma.w, mean, invstd, gamma.g, beta.g, n.tmp); err != nil {
				return err
			}
			return n.accumulate(in.g, size)
		}})
	return out, nil
}

// uploadBN copies b's host running statistics to the device.
func (n *Net) uploadBN(b *netBN) error {
	m, v := make([]float32, b.c), make([]float32, b.c)
	for i := range m {
		m[i], v[i] = float32(b.host.Mean[i]), float32(b.host.Var[i])
	}
	if err := n.d.ex.Upload(b.rmean, m); err != nil {
		return errors.Wrapf(err, "cuda: NewNet: uploading %s running mean", b.name)
	}
	return errors.Wrapf(n.d.ex.Upload(b.rvar, v), "cuda: NewNet: uploading %s running variance", b.name)
}

// BNRunning downloads the running mean and variance of the batch norm
// name (as the training steps on the device left them).
func (n *Net) BNRunning(name string) (mean, variance []float32, err error) {
	for _, b := range n.bns {
		if b.name != name {
			continue
		}
		mean, variance = make([]float32, b.c), make([]float32, b.c)
		if err := n.d.ex.Download(mean, b.rmean); err != nil {
			return nil, nil, errors.Wrapf(err, "cuda: Net: downloading %s", name)
		}
		return mean, variance, errors.Wrapf(n.d.ex.Download(variance, b.rvar), "cuda: Net: downloading %s", name)
	}
	return nil, nil, errors.Errorf("cuda: Net: no batch norm %q", name)
}

// SyncToSource downloads the device's weights and running statistics into
// the source's parameters and statistics (for a checkpoint, or to
// evaluate on the CPU).
func (n *Net) SyncToSource(src Source) error {
	for _, p := range n.params {
		mp, ok := src.Param(p.name)
		if !ok {
			return errors.Errorf("cuda: Net: the source has no parameter %q", p.name)
		}
		v, err := n.Weight(p.name)
		if err != nil {
			return err
		}
		switch d := mp.Value.Data().(type) {
		case []float32:
			copy(d, v)
		case []float64:
			for i, x := range v {
				d[i] = float64(x)
			}
		default:
			return errors.Errorf("cuda: Net: %s has dtype %v", p.name, mp.Value.Dtype())
		}
	}
	for _, b := range n.bns {
		m, v, err := n.BNRunning(b.name)
		if err != nil {
			return err
		}
		for i := range m {
			b.host.Mean[i], b.host.Var[i] = float64(m[i]), float64(v[i])
		}
	}
	return nil
}

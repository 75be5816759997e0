//go:build mpi

package main

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/goinception/googlenet/graph"
	"github.com/goinception/googlenet/inception"
	"github.com/goinception/googlenet/mpi"
	"github.com/goinception/googlenet/solvers"
)

// The googlenet mode is the acceptance check on a real GoogLeNet
// (the mini variant, with its auxiliary heads): after gnSteps steps, ranks
// with per-rank batch gnB hold bit-identical weights, equal within gnTol to
// one process training with batch Size*gnB on the same data order.
//
// Batch norm and dropout are off: per-rank batch statistics (and per-rank
// dropout masks) are a different computation from one batch of Size*gnB,
// see docs/distributed.md.
const (
	gnSteps = 3
	gnB     = 2
	// gnTol bounds |w_parallel - w_serial| / max(1, |w_serial|): float32
	// gradient sums in another order, through 3 momentum steps (measured:
	// 3.7e-9 with 2 ranks, 7.5e-9 with 3; the weights move by about 0.03).
	gnTol = 1e-6
)

func miniConfig(batch int, seed uint64) inception.Config {
	c := inception.Mini()
	c.BatchNorm = false // per-rank batch statistics would differ from batch Size*gnB
	c.Dropout, c.AuxDropout = 0, 0
	c.BatchSize = batch
	c.Seed = seed
	return c
}

func paramSlices(m *inception.Model) (names []string, lens []int, ws, gs [][]float32, ps []*graph.Param, err error) {
	for _, p := range m.Params() {
		w, ok := p.Value.Data().([]float32)
		if !ok {
			return nil, nil, nil, nil, nil, errors.Errorf("%s is not float32", p.Name)
		}
		names = append(names, p.Name)
		lens = append(lens, len(w))
		ws = append(ws, w)
		ps = append(ps, p)
	}
	return
}

// grads returns the backing slices of the gradients of the last Step.
func grads(m *inception.Model) ([][]float32, error) {
	var gs [][]float32
	for _, p := range m.Params() {
		if p.Grad == nil {
			return nil, errors.Errorf("%s has no gradient", p.Name)
		}
		gs = append(gs, p.Grad.Data().([]float32))
	}
	return gs, nil
}

func batchOf(imgs []float32, labels []int, idx []int) (*tensor.Dense, []int) {
	const px = 28 * 28
	x := make([]float32, 0, len(idx)*px)
	var l []int
	for _, i := range idx {
		x = append(x, imgs[i*px:(i+1)*px]...)
		l = append(l, labels[i])
	}
	return tensor.New(tensor.WithShape(len(idx), 1, 28, 28), tensor.WithBacking(x)), l
}

func googlenet(c mpi.Comm) error {
	p, r := c.Size(), c.Rank()
	// Each rank initialises from its own seed; the broadcast makes rank 0's
	// weights everyone's.
	m, err := inception.New(miniConfig(gnB, uint64(r)+1))
	if err != nil {
		return err
	}
	names, lens, ws, _, ps, err := paramSlices(m)
	if err != nil {
		return err
	}
	b, err := mpi.NewBuckets(names, lens, 0)
	if err != nil {
		return err
	}
	if err := b.CheckLayout(c); err != nil {
		return err
	}
	if err := b.Broadcast(c, 0, ws); err != nil {
		return err
	}
	// The serial reference, batch Size*gnB, from the same weights.
	ref, err := inception.New(miniConfig(p*gnB, 99))
	if err != nil {
		return err
	}
	_, _, rws, _, rps, err := paramSlices(ref)
	if err != nil {
		return err
	}
	init := make([][]float32, len(ws))
	for i := range ws {
		copy(rws[i], ws[i])
		init[i] = append([]float32(nil), ws[i]...)
	}
	cfg := solvers.SGDConfig{LR: 0.05, Momentum: 0.9, WeightDecay: 5e-4}
	opt, err := solvers.NewSGD(cfg)
	if err != nil {
		return err
	}
	ropt, err := solvers.NewSGD(cfg)
	if err != nil {
		return err
	}
	// Data: random images and labels, the same on every rank.
	n := gnSteps * p * gnB
	rng := rand.New(rand.NewPCG(5, 6))
	imgs := make([]float32, n*28*28)
	for i := range imgs {
		imgs[i] = float32(rng.NormFloat64())
	}
	labels := make([]int, n)
	for i := range labels {
		labels[i] = rng.IntN(10)
	}
	order := rand.New(rand.NewPCG(7, 8)).Perm(n)
	for t := 0; t < gnSteps; t++ {
		global := order[t*p*gnB : (t+1)*p*gnB]
		mine, err := mpi.Shard(c, global)
		if err != nil {
			return err
		}
		x, l := batchOf(imgs, labels, mine)
		if _, err := m.Step(x, l); err != nil {
			return err
		}
		gs, err := grads(m)
		if err != nil {
			return err
		}
		if err := b.AllreduceMean(c, gs); err != nil {
			return err
		}
		if _, err := opt.Step(ps); err != nil {
			return err
		}
		x, l = batchOf(imgs, labels, global)
		if _, err := ref.Step(x, l); err != nil {
			return err
		}
		if _, err := grads(ref); err != nil {
			return err
		}
		if _, err := ropt.Step(rps); err != nil {
			return err
		}
	}
	if err := mpi.CheckIdentical(c, fmt.Sprintf("GoogLeNet weights after %d steps", gnSteps), ws...); err != nil {
		return err
	}
	ok(c, "GoogLeNet (mini, %d parameters in %d buckets): ranks bit-identical after %d steps", sum(lens), b.Len(), gnSteps)
	worst, where, moved := 0.0, "", 0.0
	for i := range ws {
		for j := range ws[i] {
			d := math.Abs(float64(ws[i][j]-rws[i][j])) / math.Max(1, math.Abs(float64(rws[i][j])))
			if d > worst {
				worst, where = d, names[i]
			}
		}
	}
	// The weights must actually have moved, or the comparison means little.
	for i := range ws {
		for j := range ws[i] {
			moved = math.Max(moved, math.Abs(float64(ws[i][j]-init[i][j])))
		}
	}
	if moved < 1e-3 {
		return fmt.Errorf("GoogLeNet: weights moved by at most %.3g in %d steps", moved, gnSteps)
	}
	if worst > gnTol {
		return fmt.Errorf("GoogLeNet: parallel and serial weights differ by %.3g at %s (tolerance %g)", worst, where, gnTol)
	}
	ok(c, "GoogLeNet matches one process with batch %d: max relative difference %.3g (tolerance %g; weights moved up to %.3g)", p*gnB, worst, gnTol, moved)
	return bnStats(c, imgs, labels)
}

// bnStats checks the batch-norm policy on the mini GoogLeNet with batch
// norm: after a step on different shards the ranks' running statistics
// differ; AverageFloat64s makes them identical (and equal to the mean of
// the ranks' values, checked against a separate all-reduce).
func bnStats(c mpi.Comm, imgs []float32, labels []int) error {
	cfg := inception.Mini()
	cfg.Dropout, cfg.AuxDropout = 0, 0
	cfg.BatchSize = gnB
	m, err := inception.New(cfg)
	if err != nil {
		return err
	}
	mine, err := mpi.Shard(c, rand.New(rand.NewPCG(1, 1)).Perm(c.Size()*gnB))
	if err != nil {
		return err
	}
	x, l := batchOf(imgs, labels, mine)
	if _, err := m.Step(x, l); err != nil {
		return err
	}
	var xs [][]float64
	for _, e := range m.BNStats() {
		xs = append(xs, e.Stats.Mean, e.Stats.Var)
	}
	if len(xs) == 0 {
		return errors.New("mini GoogLeNet has no batch norm")
	}
	if err := mpi.CheckSame(c, mpi.HashFloat64s(xs...)); err == nil {
		return errors.New("running statistics identical after steps on different shards")
	}
	var want []float64
	for _, x := range xs {
		want = append(want, x...)
	}
	if err := c.AllreduceSumFloat64(want); err != nil {
		return err
	}
	if err := mpi.AverageFloat64s(c, xs); err != nil {
		return err
	}
	if err := mpi.CheckSame(c, mpi.HashFloat64s(xs...)); err != nil {
		return errors.Wrap(err, "running statistics after averaging")
	}
	k := 0
	for _, x := range xs {
		for _, v := range x {
			if w := want[k] / float64(c.Size()); math.Abs(v-w) > 1e-12*math.Max(1, math.Abs(w)) {
				return errors.Errorf("averaged statistic %d is %v, want %v", k, v, w)
			}
			k++
		}
	}
	ok(c, "batch-norm statistics (%d layers, %d values) differ after a step, identical after AverageFloat64s", len(xs)/2, k)
	return nil
}

func sum(xs []int) int {
	s := 0
	for _, x := range xs {
		s += x
	}
	return s
}

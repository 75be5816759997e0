//go:build mpi

package main

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/goinception/googlenet/mpi"
)

// sgdTol bounds |w_parallel - w_serial| / max(1, |w_serial|) after
// sgdSteps steps: the two differ only by the order of float32 additions in
// the gradient means (about 1e-7 relative per step).
const (
	sgdTol   = 1e-5
	sgdSteps = 25
	sgdB     = 4 // per-rank batch
	sgdN     = 96
	sgdLR    = 0.05
	sgdMom   = 0.9
)

// model is least squares with its weights split into named parameters (to
// exercise several buckets): pred = x[:13]·w1 + x[13:]·w2 + b.
var (
	sgdNames = []string{"w1", "w2", "b"}
	sgdLens  = []int{13, 7, 1}
)

type sgdData struct {
	x [][]float32
	y []float32
}

func makeData() sgdData {
	rng := rand.New(rand.NewPCG(1, 2))
	d := sgdData{x: make([][]float32, sgdN), y: make([]float32, sgdN)}
	for i := range d.x {
		d.x[i] = make([]float32, 20)
		var y float64
		for j := range d.x[i] {
			d.x[i][j] = float32(rng.NormFloat64())
			y += float64(d.x[i][j]) * float64(j%5-2)
		}
		d.y[i] = float32(y + 0.1*rng.NormFloat64() + 0.5)
	}
	return d
}

// grad writes the gradient of the mean squared error over the examples idx
// into g (w1, w2, b), in float32 as a float32 model would.
func grad(d sgdData, w, g [][]float32, idx []int) {
	for _, gk := range g {
		clear(gk)
	}
	for _, n := range idx {
		x := d.x[n]
		pred := w[2][0]
		for j, v := range w[0] {
			pred += x[j] * v
		}
		for j, v := range w[1] {
			pred += x[13+j] * v
		}
		e := pred - d.y[n]
		for j := range g[0] {
			g[0][j] += e * x[j]
		}
		for j := range g[1] {
			g[1][j] += e * x[13+j]
		}
		g[2][0] += e
	}
	inv := float32(len(idx))
	for _, gk := range g {
		for j := range gk {
			gk[j] /= inv
		}
	}
}

func alloc() [][]float32 {
	out := make([][]float32, len(sgdLens))
	for k, n := range sgdLens {
		out[k] = make([]float32, n)
	}
	return out
}

// step applies momentum SGD (PyTorch's form: v = m*v + g; w -= lr*v).
func step(w, v, g [][]float32) {
	for k := range w {
		for j := range w[k] {
			v[k][j] = sgdMom*v[k][j] + g[k][j]
			w[k][j] -= sgdLR * v[k][j]
		}
	}
}

// order returns the global example order of one epoch: the same on every
// rank because the seed is shared.
func order(epoch int) []int {
	return rand.New(rand.NewPCG(42, uint64(epoch))).Perm(sgdN)
}

func sgd(c mpi.Comm) error {
	p, r := c.Size(), c.Rank()
	d := makeData()
	b, err := mpi.NewBuckets(sgdNames, sgdLens, 40) // w1 | w2+b: two buckets
	if err != nil {
		return err
	}
	if err := b.CheckLayout(c); err != nil {
		return err
	}
	// Every rank initialises differently; the broadcast makes rank 0's win.
	w, v, g := alloc(), alloc(), alloc()
	rng := rand.New(rand.NewPCG(uint64(r), 7))
	for _, wk := range w {
		for j := range wk {
			wk[j] = float32(rng.NormFloat64())
		}
	}
	if err := b.Broadcast(c, 0, w); err != nil {
		return err
	}
	// The serial reference starts from the same (broadcast) weights.
	ws, vs, gs := alloc(), alloc(), alloc()
	for k := range w {
		copy(ws[k], w[k])
	}
	global := p * sgdB
	perEpoch, err := mpi.StepsPerEpoch(c, sgdN, sgdB)
	if err != nil {
		return err
	}
	for t := 0; t < sgdSteps; t++ {
		ord := order(t / perEpoch)
		batch := ord[(t%perEpoch)*global : (t%perEpoch+1)*global]
		mine, err := mpi.Shard(c, batch)
		if err != nil {
			return err
		}
		grad(d, w, g, mine)
		if err := b.AllreduceMean(c, g); err != nil {
			return err
		}
		step(w, v, g)
		grad(d, ws, gs, batch) // one process, batch Size*B
		step(ws, vs, gs)
	}
	if err := mpi.CheckIdentical(c, fmt.Sprintf("weights after %d steps", sgdSteps), w...); err != nil {
		return err
	}
	ok(c, "ranks bit-identical after %d steps (hash %016x)", sgdSteps, mpi.HashFloat32s(w...))
	worst := 0.0
	for k := range w {
		for j := range w[k] {
			diff := math.Abs(float64(w[k][j]-ws[k][j])) / math.Max(1, math.Abs(float64(ws[k][j])))
			worst = math.Max(worst, diff)
		}
	}
	if worst > sgdTol {
		return fmt.Errorf("parallel and serial weights differ by %.3g (tolerance %g)", worst, sgdTol)
	}
	if st := b.Stats(); st.Steps != sgdSteps || st.Calls != sgdSteps*b.Len() {
		return fmt.Errorf("stats %+v after %d steps", st, sgdSteps)
	}
	ok(c, "matches one process with batch %d: max relative difference %.3g (tolerance %g)", global, worst, sgdTol)
	return nil
}

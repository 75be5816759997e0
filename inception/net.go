package inception

import (
	"fmt"

	"github.com/pkg/errors"

	"github.com/goinception/googlenet/graph"
	"github.com/goinception/googlenet/ops"
)

// lrnOpts are the LRN settings of bvlc_googlenet (alpha divided by size).
var lrnOpts = ops.LRNOpts{Size: 5, Alpha: 1e-4, Beta: 0.75, K: 1}

// net is a built network: its outputs and its summary rows.
type net struct {
	logits *graph.Tensor
	aux    [2]*graph.Tensor // nil where absent or not built
	layers []Layer          // main path, Table 1 rows
	auxL   []Layer          // auxiliary heads
	// want, when not nil, names the rows whose outputs a feature graph
	// keeps (in outs); once all are built, the remaining rows are not.
	want    map[string]bool
	outs    map[string]*graph.Tensor
	stopped bool
}

// stage runs fn and records one summary row aggregating the layers it adds.
// Once the rows a feature graph wants are built, it builds nothing more.
func (n *net) stage(b *graph.Builder, aux bool, row Layer, fn func() *graph.Tensor) *graph.Tensor {
	if n.stopped {
		return nil
	}
	mark := len(b.Layers())
	y := fn()
	if b.Err() != nil || y == nil {
		return nil
	}
	if n.want[row.Name] {
		n.outs[row.Name] = y
		n.stopped = len(n.outs) == len(n.want)
	}
	for _, l := range b.Layers()[mark:] {
		row.Params += l.Params
		row.MACs += l.MACs
	}
	d := y.Dims()
	for len(d) < 3 {
		d = append(d, 1)
	}
	row.Output = [3]int{d[0], d[1], d[2]}
	if aux {
		n.auxL = append(n.auxL, row)
	} else {
		n.layers = append(n.layers, row)
	}
	return y
}

func patch(k, s int) string { return fmt.Sprintf("%dx%d/%d", k, k, s) }

// build adds the network of c on input x (NCHW) to b. withAux adds the
// auxiliary classifiers of the rows that ask for them.
func build(b *graph.Builder, c Config, x *graph.Tensor, withAux bool) *net {
	return buildUpTo(b, c, x, withAux, nil)
}

// buildUpTo is build that stops after the rows named in want (all rows when
// want is nil), whose outputs it leaves in net.outs.
func buildUpTo(b *graph.Builder, c Config, x *graph.Tensor, withAux bool, want map[string]bool) *net {
	n := &net{want: want, outs: map[string]*graph.Tensor{}}
	mo := ModuleOpts{Branch3Kernel: c.Branch3Kernel, Naive: c.Naive, BatchNorm: c.BatchNorm, BN: graph.BNOpts{Eps: c.BNEps}}
	cv := func(name string, x *graph.Tensor, out, k, s, p int) *graph.Tensor {
		return conv(b, name, x, out, k, s, p, mo)
	}
	scoped := func(scope string, fn func() *graph.Tensor) func() *graph.Tensor {
		return func() *graph.Tensor {
			var y *graph.Tensor
			b.Scope(scope, func() { y = fn() })
			return y
		}
	}
	maxPool := func(scope string, k int) {
		name := fmt.Sprintf("%dx%d_s2", k, k)
		x = n.stage(b, false, Layer{Name: scope + "/" + name, Type: "max pool", Patch: patch(k, 2)},
			scoped(scope, func() *graph.Tensor {
				return b.MaxPool(name, x, graph.PoolOpts{Kernel: k, Stride: 2, CeilMode: true})
			}))
	}
	lrn := func(scope, name string) {
		x = n.stage(b, false, Layer{Name: scope + "/" + name, Type: "lrn", Patch: fmt.Sprint(lrnOpts.Size)},
			scoped(scope, func() *graph.Tensor { return b.LRN(name, x, lrnOpts) }))
	}

	pool := 1
	if c.SmallStem {
		// Deviation SmallStem (mini): conv 3x3/1 and one max pool instead of
		// the paper's 16x-reducing stem, so 28x28 images keep 14x14 maps.
		x = n.stage(b, false, Layer{Name: "conv1/3x3_s1", Type: "convolution", Patch: patch(3, 1), Depth: 1},
			scoped("conv1", func() *graph.Tensor { return cv("3x3_s1", x, c.Conv1, 3, 1, 1) }))
		maxPool("pool1", 3)
		pool = 2
	} else {
		x = n.stage(b, false, Layer{Name: "conv1/7x7_s2", Type: "convolution", Patch: patch(7, 2), Depth: 1},
			scoped("conv1", func() *graph.Tensor { return cv("7x7_s2", x, c.Conv1, 7, 2, 3) }))
		maxPool("pool1", 3)
		if !c.NoLRN { // deviation NoLRN (torchvision) skips it
			lrn("pool1", "norm1")
		}
		x = n.stage(b, false, Layer{Name: "conv2", Type: "convolution", Patch: patch(3, 1), Depth: 2,
			C3x3Reduce: c.Conv2Reduce, C3x3: c.Conv2},
			scoped("conv2", func() *graph.Tensor {
				y := cv("3x3_reduce", x, c.Conv2Reduce, 1, 1, 0)
				return cv("3x3", y, c.Conv2, 3, 1, 1)
			}))
		if !c.NoLRN { // deviation NoLRN (torchvision) skips it
			lrn("conv2", "norm2")
		}
		maxPool("pool2", 3)
		pool = 3
	}

	last := -1
	for i, r := range c.Table {
		if r.MaxPoolBefore {
			last = i
		}
	}
	for i, r := range c.Table {
		if r.MaxPoolBefore {
			k := 3
			if i == last {
				k = c.LastPoolKernel // deviation: torchvision's 2x2/2 pool before 5a
			}
			maxPool(fmt.Sprintf("pool%d", pool), k)
			pool++
		}
		name := "inception_" + r.Name
		depth := 2
		if c.Naive {
			depth = 1
		}
		x = n.stage(b, false, Layer{Name: name, Type: "inception", Depth: depth,
			C1x1: r.C1x1, C3x3Reduce: r.C3x3Reduce, C3x3: r.C3x3, C5x5Reduce: r.C5x5Reduce, C5x5: r.C5x5, PoolProj: r.PoolProj},
			func() *graph.Tensor { return Module(b, name, x, r, mo) })
		if r.Aux > 0 && withAux && !n.stopped {
			n.aux[r.Aux-1] = n.auxHead(b, c, r.Aux, x, cv)
		}
	}

	// Main classifier. The paper's "avg pool 7x7/1" is the whole 7x7 map at
	// 224x224; for other input sizes it stays a global average (as
	// torchvision's adaptive pool), so the classifier keeps its 1024 inputs.
	h := 0
	if x != nil {
		h = x.Shape[2]
	}
	x = n.stage(b, false, Layer{Name: "pool5/7x7_s1", Type: "avg pool", Patch: fmt.Sprintf("%dx%d/1", h, h)},
		scoped("pool5", func() *graph.Tensor { return b.GlobalAvgPool("7x7_s1", x) }))
	x = n.stage(b, false, Layer{Name: "pool5/drop_7x7_s1", Type: fmt.Sprintf("dropout (%g%%)", c.Dropout*100)},
		scoped("pool5", func() *graph.Tensor {
			y := b.Flatten("flatten", x)
			return b.Dropout("drop_7x7_s1", y, c.Dropout) // paper 0.4, torchvision 0.2
		}))
	n.logits = n.stage(b, false, Layer{Name: "loss3/classifier", Type: "linear", Depth: 1},
		scoped("loss3", func() *graph.Tensor { return b.Linear("classifier", x, c.Classes, graph.LinearOpts{}) }))
	return n
}

// auxHead adds auxiliary classifier k ("loss1", "loss2") on x.
func (n *net) auxHead(b *graph.Builder, c Config, k int, x *graph.Tensor,
	cv func(string, *graph.Tensor, int, int, int, int) *graph.Tensor) *graph.Tensor {
	scope := fmt.Sprintf("loss%d", k)
	st := func(name, typ, p string, depth int, fn func() *graph.Tensor) {
		x = n.stage(b, true, Layer{Name: scope + "/" + name, Type: typ, Patch: p, Depth: depth}, func() *graph.Tensor {
			var y *graph.Tensor
			b.Scope(scope, func() { y = fn() })
			return y
		})
	}
	if c.AuxAdaptivePool > 0 {
		// Deviation (torchvision): adaptive average pool to n x n.
		a := c.AuxAdaptivePool
		st("ave_pool", "adaptive avg pool", fmt.Sprintf("->%dx%d", a, a), 0, func() *graph.Tensor {
			return b.AdaptiveAvgPool("ave_pool", x, a, a)
		})
	} else {
		st("ave_pool", "avg pool", patch(5, 3), 0, func() *graph.Tensor {
			return b.AvgPool("ave_pool", x, graph.PoolOpts{Kernel: 5, Stride: 3, CeilMode: true})
		})
	}
	st("conv", "convolution", patch(1, 1), 1, func() *graph.Tensor { return cv("conv", x, c.AuxConv, 1, 1, 0) })
	st("fc", "linear", "", 1, func() *graph.Tensor {
		y := b.Flatten("flatten", x)
		return b.Linear("fc", y, c.AuxFC, graph.LinearOpts{ReLU: true})
	})
	st("drop_fc", fmt.Sprintf("dropout (%g%%)", c.AuxDropout*100), "", 0, func() *graph.Tensor {
		return b.Dropout("drop_fc", x, c.AuxDropout)
	})
	st("classifier", "linear", "", 1, func() *graph.Tensor {
		return b.Linear("classifier", x, c.Classes, graph.LinearOpts{})
	})
	return x
}

// buildChecked validates c, builds it and wraps errors with the variant and
// input size, so an input too small says so.
func buildChecked(b *graph.Builder, c Config, x *graph.Tensor, withAux bool) (*net, error) {
	return buildCheckedUpTo(b, c, x, withAux, nil)
}

// buildCheckedUpTo is buildChecked through the rows named in want only.
func buildCheckedUpTo(b *graph.Builder, c Config, x *graph.Tensor, withAux bool, want map[string]bool) (*net, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	n := buildUpTo(b, c, x, withAux, want)
	if err := b.Err(); err != nil {
		return nil, errors.Wrapf(err, "inception: variant %s, input %dx%dx%d", c.Variant, c.InChannels, c.InputSize, c.InputSize)
	}
	return n, nil
}

package cuda

import (
	"github.com/pkg/errors"

	"github.com/goinception/googlenet/graph"
	"github.com/goinception/googlenet/ops"
)

// This file holds the device work of each layer kind a described network
// may have (see Net): forward and backward closures over device buffers.

// output returns the act a layer with the given name and shape writes: a
// channel view of a concatenation's output when the walker chose one (see
// walker.viewOf), else a new act.
func (w *walker) output(name string, c, h, wd int) (*act, error) {
	slot, ok := w.viewOf[name]
	if !ok {
		return w.n.newAct(c, h, wd)
	}
	cat, err := w.concatOut(slot.concat)
	if err != nil {
		return nil, err
	}
	if cat.h != h || cat.w != wd || slot.off+c > cat.c {
		return nil, errors.Errorf("output %dx%dx%d does not fit channels %d.. of %s (%dx%dx%d)", c, h, wd, slot.off, slot.concat, cat.c, cat.h, cat.w)
	}
	hw := h * wd
	return &act{p: cat.p.Add(slot.off * hw), g: cat.g.Add(slot.off * hw), c: c, h: h, w: wd, stride: cat.c * hw}, nil
}

// concatOut returns the output of the concatenation name, made on first
// use (by its first viewed input, or by the concatenation itself).
func (w *walker) concatOut(name string) (*act, error) {
	if a, ok := w.cat[name]; ok {
		return a, nil
	}
	l, ok := w.byName[name]
	if !ok {
		return nil, errors.Errorf("no concatenation %q", name)
	}
	c, h, wd := chw(l.OutShape)
	a, err := w.n.newAct(c, h, wd)
	if err != nil {
		return nil, err
	}
	w.cat[name] = a
	return a, nil
}

// conv adds a convolution with its bias (if any) and fused ReLU (if any).
func (w *walker) conv(l graph.Layer, in *act) (*act, error) {
	n, o := w.n, l.Conv
	k, oh, ow := chw(l.OutShape)
	g := ops.ConvGeom{N: n.batch, C: in.c, H: in.h, W: in.w, K: k, R: o.Kernel, S: o.Kernel,
		StrideH: max(o.Stride, 1), StrideW: max(o.Stride, 1), PadTop: o.Pad, PadLeft: o.Pad}
	var err error
	if g.OutH, err = ops.ConvOutSize(in.h, o.Kernel, o.Stride, o.Pad, o.Pad); err != nil {
		return nil, err
	}
	if g.OutW, err = ops.ConvOutSize(in.w, o.Kernel, o.Stride, o.Pad, o.Pad); err != nil {
		return nil, err
	}
	if g.OutH != oh || g.OutW != ow {
		return nil, errors.Errorf("output %dx%d, the description says %dx%d", g.OutH, g.OutW, oh, ow)
	}
	wp, err := n.param(w.src, l.ParamNames[0], k, in.c, o.Kernel, o.Kernel)
	if err != nil {
		return nil, err
	}
	var bias *netParam
	if len(l.ParamNames) > 1 && !o.BatchNorm {
		if bias, err = n.param(w.src, l.ParamNames[1], k); err != nil {
			return nil, err
		}
	}
	if o.BatchNorm && len(l.ParamNames) != 3 {
		return nil, errors.Errorf("convolution with batch norm has parameters %v, want weights, scale and shift", l.ParamNames)
	}
	var out *act
	if o.BatchNorm {
		out, err = n.newAct(k, oh, ow) // the raw convolution, normalised below
	} else {
		out, err = w.output(l.Name, k, oh, ow)
	}
	if err != nil {
		return nil, err
	}
	var bg Ptr
	if bias != nil {
		bg = bias.g
	}
	// The bias's weights are read at each call: SwapAverages exchanges
	// the weight buffers of every parameter.
	bw := func() Ptr {
		if bias == nil {
			return 0
		}
		return bias.w
	}
	relu := o.ReLU && !o.BatchNorm
	strided := out.stride > 0
	if relu || strided {
		n.dzN = max(n.dzN, out.size(n.batch))
	}
	n.layers = append(n.layers, netLayer{name: l.Name,
		forward: func() error { return n.d.ConvForwardInto(g, in.p, wp.w, bw(), out.p, out.imageStride(), relu) },
		backward: func() error {
			// dz: the output gradient (ReLU-masked), contiguous.
			dz := out.g
			switch {
			case relu:
				dz = n.dz
				if err := n.d.ReLUBackwardView(out.p, out.g, dz, n.batch, k, oh*ow, out.imageStride()); err != nil {
					return err
				}
			case strided:
				dz = n.dz
				if err := n.d.ChannelCopy(out.g, out.stride/(oh*ow), 0, dz, k, 0, k, n.batch, oh*ow); err != nil {
					return err
				}
			}
			if err := n.d.ConvBackwardFilter(g, in.p, dz, wp.g, bg); err != nil {
				return err
			}
			if in == n.input {
				return nil // no gradient for the images
			}
			if err := n.d.ConvBackwardData(g, wp.w, dz, n.tmp); err != nil {
				return err
			}
			return n.accumulate(in.g, in.size(n.batch))
		}})
	if o.BatchNorm {
		return w.batchNorm(l.Name+"/bn", l.ParamNames[1], l.ParamNames[2], out, o.ReLU)
	}
	return out, nil
}

// pool adds a max or average pool.
func (n *Net) pool(name string, in *act, isMax bool, o ops.PoolOpts) (*act, error) {
	pg, err := NewPoolGeom(n.batch, in.c, in.h, in.w, o)
	if err != nil {
		return nil, err
	}
	out, err := n.newAct(in.c, pg.OutH, pg.OutW)
	if err != nil {
		return nil, err
	}
	if !isMax {
		n.layers = append(n.layers, netLayer{name: name,
			forward: func() error { return n.d.AvgPoolForward(pg, in.p, out.p) },
			backward: func() error {
				if err := n.d.AvgPoolBackward(pg, out.g, n.tmp); err != nil {
					return err
				}
				return n.accumulate(in.g, in.size(n.batch))
			}})
		return out, nil
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

// adaptivePool adds an adaptive average pool with uneven windows
// (PyTorch's AdaptiveAvgPool2d; even ones are plain average pools).
func (n *Net) adaptivePool(name string, in *act, oh, ow int) (*act, error) {
	if in.stride > 0 {
		return nil, errors.New("adaptive pool of a channel view")
	}
	out, err := n.newAct(in.c, oh, ow)
	if err != nil {
		return nil, err
	}
	nc := n.batch * in.c
	n.layers = append(n.layers, netLayer{name: name,
		forward: func() error { return n.d.AdaptiveAvgPoolForward(in.p, out.p, nc, in.h, in.w, oh, ow) },
		backward: func() error {
			if err := n.d.AdaptiveAvgPoolBackward(out.g, n.tmp, nc, in.h, in.w, oh, ow); err != nil {
				return err
			}
			return n.accumulate(in.g, in.size(n.batch))
		}})
	return out, nil
}

// lrn adds local response normalisation across channels.
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

// linear adds a fully connected layer (weights [out,in], a bias) on x
// flattened to [batch, c*h*w], with an optional ReLU.
func (w *walker) linear(l graph.Layer, x *act) (*act, error) {
	n := w.n
	if len(l.ParamNames) < 2 {
		return nil, errors.New("a linear layer without a bias is not implemented on the device")
	}
	out, _, _ := chw(l.OutShape)
	in := x.c * x.h * x.w
	relu := l.Linear.ReLU
	wp, err := n.param(w.src, l.ParamNames[0], out, in)
	if err != nil {
		return nil, err
	}
	b, err := n.param(w.src, l.ParamNames[1], out)
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
	n.layers = append(n.layers, netLayer{name: l.Name,
		forward: func() error { return n.d.Linear(x.p, wp.w, b.w, y.p, n.batch, in, out, relu) },
		backward: func() error {
			dz := y.g
			if relu {
				dz = n.dz
				if err := n.d.ReLUBackward(y.p, y.g, dz, y.size(n.batch)); err != nil {
					return err
				}
			}
			// dW[out,in] = dZᵀ·X; db = Σ_n dZ; dX = dZ·W.
			if err := n.d.Gemm(true, false, out, in, n.batch, 1, dz, out, x.p, in, 0, wp.g, in); err != nil {
				return err
			}
			if err := n.d.BiasGrad(dz, b.g, n.batch, out, 1); err != nil {
				return err
			}
			if err := n.d.Gemm(false, false, n.batch, in, out, 1, dz, out, wp.w, in, 0, n.tmp, in); err != nil {
				return err
			}
			return n.accumulate(x.g, x.size(n.batch))
		}})
	return y, nil
}

// dropout adds the described dropout layer; rate 0 is the identity, as in
// the CPU graph.
func (n *Net) dropout(name string, x *act, o graph.DropoutOpts) (*act, error) {
	if o.Rate == 0 {
		return x, nil
	}
	if x.stride > 0 {
		return nil, errors.New("dropout of a channel view")
	}
	y, err := n.newAct(x.c, x.h, x.w)
	if err != nil {
		return nil, err
	}
	size := y.size(n.batch)
	index, rate := o.Index, o.Rate
	n.layers = append(n.layers, netLayer{name: name,
		forward: func() error { return n.d.Dropout(x.p, y.p, size, n.seed, n.step, index, rate) },
		// Inference: the identity, as the CPU graph's evaluation.
		eval: func() error { return n.d.ChannelCopy(x.p, x.c, 0, y.p, y.c, 0, x.c, n.batch, x.h*x.w) },
		backward: func() error {
			if err := n.d.Dropout(y.g, n.tmp, size, n.seed, n.step, index, rate); err != nil {
				return err
			}
			return n.accumulate(x.g, size)
		}})
	return y, nil
}

// concat concatenates its inputs along the channels, in order. Inputs that
// wrote into their channel range already (views) cost nothing; the others
// are copied in, and their gradients copied back out.
func (w *walker) concat(l graph.Layer) (*act, error) {
	n := w.n
	out, err := w.concatOut(l.Name)
	if err != nil {
		return nil, err
	}
	hw := out.h * out.w
	off := 0
	for i := range l.Inputs {
		x, err := w.in(l, i)
		if err != nil {
			return nil, err
		}
		if x.h != out.h || x.w != out.w {
			return nil, errors.Errorf("input %d is %dx%d, the output %dx%d", i, x.h, x.w, out.h, out.w)
		}
		if slot, ok := w.viewOf[l.Inputs[i]]; ok && slot.concat == l.Name {
			off += x.c
			continue
		}
		if x.stride > 0 {
			return nil, errors.Errorf("input %d is a view of another concatenation", i)
		}
		x, at := x, off
		n.layers = append(n.layers, netLayer{name: l.Name,
			forward: func() error { return n.d.ChannelCopy(x.p, x.c, 0, out.p, out.c, at, x.c, n.batch, hw) },
			backward: func() error {
				if err := n.d.ChannelCopy(out.g, out.c, at, n.tmp, x.c, 0, x.c, n.batch, hw); err != nil {
					return err
				}
				return n.accumulate(x.g, x.size(n.batch))
			}})
		off += x.c
	}
	if off != out.c {
		return nil, errors.Errorf("inputs have %d channels, the output %d", off, out.c)
	}
	return out, nil
}

package ops

import (
	"math"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// poolAxis holds, for one spatial axis, each output position's window
// [Start, End) clipped to the input, and the divisor an average pool uses
// for that axis (a window's divisor is DivH[oh]*DivW[ow]).
type poolAxis struct {
	In, Out    int
	Start, End []int
	Div        []int
}

// poolOutSize is the output length of one axis (see PoolOpts.CeilMode).
func poolOutSize(in, k, s, before, after int, ceil bool) (int, error) {
	span := in + before + after - k
	if span < 0 {
		return 0, errors.Errorf("padded size %d smaller than kernel %d", in+before+after, k)
	}
	if !ceil {
		return span/s + 1, nil
	}
	out := (span+s-1)/s + 1
	// Drop a last window that would start in the after-padding.
	if (out-1)*s >= in+before {
		out--
	}
	return out, nil
}

// windowAxis computes the windows of a strided pooling axis. includePad
// selects PyTorch's count_include_pad divisor: the window clipped to the
// padded extent (padding counts, the ceil-mode overhang beyond it does not).
func windowAxis(in, k, s, before, after int, ceil, includePad bool) (poolAxis, error) {
	out, err := poolOutSize(in, k, s, before, after, ceil)
	if err != nil {
		return poolAxis{}, err
	}
	a := poolAxis{In: in, Out: out, Start: make([]int, out), End: make([]int, out), Div: make([]int, out)}
	for o := 0; o < out; o++ {
		start := o*s - before
		end := min(start+k, in+after)
		full := end - start
		start, end = max(start, 0), min(end, in)
		if end <= start {
			return poolAxis{}, errors.Errorf("pooling window %d is entirely padding (kernel %d, padding %d/%d)", o, k, before, after)
		}
		a.Start[o], a.End[o] = start, end
		if includePad {
			a.Div[o] = full
		} else {
			a.Div[o] = end - start
		}
	}
	return a, nil
}

// adaptiveAxis computes PyTorch's adaptive pooling windows:
// start = floor(o*in/out), end = ceil((o+1)*in/out).
func adaptiveAxis(in, out int) poolAxis {
	a := poolAxis{In: in, Out: out, Start: make([]int, out), End: make([]int, out), Div: make([]int, out)}
	for o := 0; o < out; o++ {
		a.Start[o] = o * in / out
		a.End[o] = ((o+1)*in + out - 1) / out
		a.Div[o] = a.End[o] - a.Start[o]
	}
	return a
}

// PoolGeom fully describes one NCHW pooling (its windows are derived from
// it): Kind is "max" or "avg" (windows from Opts), "adaptive" (PyTorch's
// adaptive windows to OutH x OutW) or "global" (one window per channel).
// Engines receive it with the pool's float32 slices.
type PoolGeom struct {
	Kind       string
	N, C, H, W int
	Opts       PoolOpts
	OutH, OutW int
}

// poolParams are a pooling op's parameters (its hash covers them).
type poolParams = PoolGeom

// poolKernel is a pooling's geometry and its windows: what the kernels of
// this file read.
type poolKernel struct {
	p    poolParams
	h, w poolAxis
}

// newPoolKernel computes the windows of g (validated by newPool).
func newPoolKernel(g PoolGeom) (poolKernel, error) {
	k := poolKernel{p: g}
	switch g.Kind {
	case "max", "avg":
		o := g.Opts
		var err error
		if k.h, err = windowAxis(g.H, o.KernelH, max(o.StrideH, 1), o.Pad.Top, o.Pad.Bottom, o.CeilMode, o.CountIncludePad); err != nil {
			return k, errors.Wrap(err, "height")
		}
		if k.w, err = windowAxis(g.W, o.KernelW, max(o.StrideW, 1), o.Pad.Left, o.Pad.Right, o.CeilMode, o.CountIncludePad); err != nil {
			return k, errors.Wrap(err, "width")
		}
	case "adaptive", "global":
		if g.OutH <= 0 || g.OutW <= 0 || g.OutH > g.H || g.OutW > g.W {
			return k, errors.Errorf("adaptive pool of %dx%d to %dx%d", g.H, g.W, g.OutH, g.OutW)
		}
		k.h, k.w = adaptiveAxis(g.H, g.OutH), adaptiveAxis(g.W, g.OutW)
	default:
		return k, errors.Errorf("pool kind %q", g.Kind)
	}
	if k.h.Out != g.OutH || k.w.Out != g.OutW {
		return k, errors.Errorf("pool geometry %+v: windows give %dx%d", g, k.h.Out, k.w.Out)
	}
	return k, nil
}

// poolOp is max or average pooling over precomputed windows.
type poolOp struct {
	opMeta
	poolKernel
	out outBuf
}

var (
	_ G.Op   = (*poolOp)(nil)
	_ G.SDOp = (*poolOp)(nil)
)

func (k *poolKernel) isMax() bool { return k.p.Kind == "max" }

func newPool(eng Engine, x *G.Node, kind string, o PoolOpts, outH, outW int) (*G.Node, error) {
	ctx := map[string]string{"max": "ops.MaxPool2D", "avg": "ops.AvgPool2D", "adaptive": "ops.AdaptiveAvgPool2D", "global": "ops.GlobalAvgPool2D"}[kind]
	if _, err := checkFloat(x); err != nil {
		return nil, errors.Wrap(err, ctx)
	}
	if err := checkRank(x, 4, "input"); err != nil {
		return nil, errors.Wrap(err, ctx)
	}
	s := shapeOf(x)
	p := poolParams{Kind: kind, N: s[0], C: s[1], H: s[2], W: s[3]}
	op := &poolOp{}
	switch kind {
	case "max", "avg":
		if o.KernelH <= 0 || o.KernelW <= 0 {
			return nil, errors.Errorf("%s: kernel %dx%d must be positive", ctx, o.KernelH, o.KernelW)
		}
		if o.StrideH == 0 {
			o.StrideH = 1
		}
		if o.StrideW == 0 {
			o.StrideW = 1
		}
		if o.StrideH < 0 || o.StrideW < 0 {
			return nil, errors.Errorf("%s: negative stride %dx%d", ctx, o.StrideH, o.StrideW)
		}
		pd := o.Pad
		if pd.Top < 0 || pd.Bottom < 0 || pd.Left < 0 || pd.Right < 0 {
			return nil, errors.Errorf("%s: negative padding %+v", ctx, pd)
		}
		if pd.Top >= o.KernelH || pd.Bottom >= o.KernelH || pd.Left >= o.KernelW || pd.Right >= o.KernelW {
			return nil, errors.Errorf("%s: padding %+v must be smaller than the kernel %dx%d", ctx, pd, o.KernelH, o.KernelW)
		}
		if kind == "max" {
			o.CountIncludePad = false // irrelevant to max; keep the hash canonical
		}
		var err error
		if op.h, err = windowAxis(p.H, o.KernelH, o.StrideH, pd.Top, pd.Bottom, o.CeilMode, o.CountIncludePad); err != nil {
			return nil, errors.Wrapf(err, "%s: height", ctx)
		}
		if op.w, err = windowAxis(p.W, o.KernelW, o.StrideW, pd.Left, pd.Right, o.CeilMode, o.CountIncludePad); err != nil {
			return nil, errors.Wrapf(err, "%s: width", ctx)
		}
		p.Opts = o
	default:
		if outH <= 0 || outW <= 0 {
			return nil, errors.Errorf("%s: output size %dx%d must be positive", ctx, outH, outW)
		}
		if outH > p.H || outW > p.W {
			return nil, errors.Errorf("%s: output %dx%d larger than input %dx%d", ctx, outH, outW, p.H, p.W)
		}
		op.h, op.w = adaptiveAxis(p.H, outH), adaptiveAxis(p.W, outW)
	}
	p.OutH, p.OutW = op.h.Out, op.w.Out
	op.p = p
	op.opMeta = newMeta("Pool2D", p).with(eng)
	return apply(op, x)
}

func (op *poolOp) Arity() int    { return 1 }
func (op *poolOp) Type() hm.Type { return fnType(tt(4), tt(4)) }
func (op *poolOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.p.N, op.p.C, op.p.OutH, op.p.OutW}, nil
}
func (op *poolOp) DiffWRT(int) []bool { return []bool{true} }

func (op *poolOp) Do(vs ...G.Value) (G.Value, error) {
	return dispatch(vs[0], func() (G.Value, error) { return poolDo[float32](op, vs) },
		func() (G.Value, error) { return poolDo[float64](op, vs) })
}

func poolDo[T float](op *poolOp, vs []G.Value) (G.Value, error) {
	p := op.p
	x, err := floats[T](vs[0])
	if err != nil {
		return nil, err
	}
	if err := checkLen("pool input", x, p.N*p.C*p.H*p.W); err != nil {
		return nil, err
	}
	out, y := get[T](&op.out, tensor.Shape{p.N, p.C, p.OutH, p.OutW})
	if x32, ok := any(x).([]float32); ok {
		if err := op.engine().PoolForward(p, x32, any(y).([]float32)); err != nil {
			return nil, errors.Wrapf(err, "Pool2D on %s", op.engine().Name())
		}
		return out, nil
	}
	poolForward(&op.poolKernel, x, y)
	return out, nil
}

// poolForward pools x into y (the specification; float32 engines call it
// through Reference.PoolForward).
func poolForward[T float](op *poolKernel, x, y []T) {
	p := op.p
	hw, ohw := p.H*p.W, p.OutH*p.OutW
	if n3 := op.stride2Run(); n3 > 0 {
		parallelFor(p.N*p.C, hw, func(lo, hi int) {
			sc := scratchFor[T]()
			v := sc.get(p.W)
			for nc := lo; nc < hi; nc++ {
				maxPool3s2Plane(op, x[nc*hw:(nc+1)*hw], y[nc*ohw:(nc+1)*ohw], v, n3)
			}
			sc.put(v)
		})
		return
	}
	if op.isMax() {
		r0, r1 := op.w.run3()
		q0, q1 := op.h.run3()
		parallelFor(p.N*p.C, hw, func(lo, hi int) {
			sc := scratchFor[T]()
			hm := sc.get(p.H * p.OutW)
			tmp := sc.get(p.W)
			defer sc.put(tmp)
			for nc := lo; nc < hi; nc++ {
				maxPoolPlane(op, x[nc*hw:(nc+1)*hw], y[nc*ohw:(nc+1)*ohw], hm, tmp, r0, r1, q0, q1)
			}
			sc.put(hm)
		})
		return
	}
	parallelFor(p.N*p.C, hw, func(lo, hi int) {
		for nc := lo; nc < hi; nc++ {
			avgPoolPlane(op, x[nc*hw:(nc+1)*hw], y[nc*ohw:(nc+1)*ohw])
		}
	})
}

// stride2Run returns, for a 3x3 stride-2 max pool without top or left
// padding (GoogLeNet's pools between stages, ceil mode), the number of
// leading output columns whose windows are full: [2ow, 2ow+3). Otherwise,
// or when that is fewer than 8 (nothing for the vector kernel), it returns
// 0.
func (op *poolKernel) stride2Run() int {
	o := op.p.Opts
	if !op.isMax() || o.KernelH != 3 || o.KernelW != 3 || o.StrideH != 2 || o.StrideW != 2 ||
		o.Pad.Top != 0 || o.Pad.Left != 0 {
		return 0
	}
	n := 0
	for n < op.w.Out && op.w.Start[n] == 2*n && op.w.End[n] == 2*n+3 {
		n++
	}
	if n < 8 {
		return 0
	}
	return n
}

// maxPool3s2Plane max-pools one plane for stride2Run's pools: for each
// output row, the maximum of its (up to 3) input rows by whole vectors into
// v (length W), then the 3-wide stride-2 windows of v, the first n3 with
// max3s2 (vector), the clipped ones at the right edge one by one. The
// maximum is exact, so the result is the same as any other order's (NaN
// propagates).
func maxPool3s2Plane[T float](op *poolKernel, x, y, v []T, n3 int) {
	p := op.p
	for oh := 0; oh < p.OutH; oh++ {
		hs, he := op.h.Start[oh], op.h.End[oh]
		src := x[hs*p.W : (hs+1)*p.W]
		if he-hs > 1 {
			maxInto(v, src, x[(hs+1)*p.W:(hs+2)*p.W])
			for ih := hs + 2; ih < he; ih++ {
				maxInto(v, v, x[ih*p.W:(ih+1)*p.W])
			}
			src = v
		}
		yr := y[oh*p.OutW : (oh+1)*p.OutW]
		max3s2(yr[:n3], src)
		for ow := n3; ow < p.OutW; ow++ {
			ws, we := op.w.Start[ow], op.w.End[ow]
			m := src[ws]
			for _, u := range src[ws+1 : we] {
				m = max(m, u)
			}
			yr[ow] = m
		}
	}
}

// max3s2Go is max3s2 in Go: the builtin max propagates NaN.
func max3s2Go[T float](dst, v []T) {
	v = v[:2*len(dst)+1]
	for j := range dst {
		dst[j] = max(v[2*j], v[2*j+1], v[2*j+2])
	}
}

// maxIntoGo is maxInto in Go: the builtin max propagates NaN.
func maxIntoGo[T float](dst, a, b []T) {
	a, b = a[:len(dst)], b[:len(dst)]
	for i := range dst {
		dst[i] = max(a[i], b[i])
	}
}

// run3 returns the longest range [lo, hi) of output positions whose
// windows are 3 wide and start one input apart (stride-1 3-wide pooling
// away from the borders), or lo == hi if there is none.
func (a poolAxis) run3() (lo, hi int) {
	for o := 0; o < a.Out; o++ {
		if a.End[o]-a.Start[o] != 3 {
			continue
		}
		e := o + 1
		for e < a.Out && a.End[e]-a.Start[e] == 3 && a.Start[e] == a.Start[e-1]+1 {
			e++
		}
		if e-o > hi-lo {
			lo, hi = o, e
		}
		o = e - 1
	}
	return lo, hi
}

// maxPoolPlane max-pools one H x W plane x into y (OutH x OutW), separably:
// first the maximum of each row over every output column's window into hm
// (H x OutW), then the maximum of hm's rows over each output row's window.
// Runs of stride-1 3-wide windows (see run3: the Inception pool branches)
// take maxima of whole vectors (maxInto): along a row, or, when W == OutW,
// across the whole plane at once (border columns are then redone one by
// one); down the columns, over the whole block of rows the run covers.
// Strided pools read their 3-wide windows from a row's stride-1 maxima,
// computed by whole vectors into tmp (scratch of length W). NaN
// propagates, as a window holding a NaN must.
func maxPoolPlane[T float](op *poolKernel, x, y, hm, tmp []T, r0, r1, q0, q1 int) {
	p := op.p
	ws, we := op.w.Start, op.w.End
	vec := r1-r0 >= 8
	if vec && p.W == p.OutW && p.H > 1 {
		// hm[i] = max(x[i+off : i+off+3]) for every i from (0, r0) to
		// (H-1, r1-1); the wrapped values at the border columns in between
		// are overwritten below.
		off := ws[r0] - r0
		lo, hi := r0, (p.H-1)*p.OutW+r1
		hv := hm[lo:hi]
		maxInto(hv, x[lo+off:hi+off], x[lo+off+1:hi+off+1])
		maxInto(hv, hv, x[lo+off+2:hi+off+2])
	} else if vec {
		for ih := 0; ih < p.H; ih++ {
			xr := x[ih*p.W : (ih+1)*p.W]
			s, n := ws[r0], r1-r0
			hv := hm[ih*p.OutW+r0 : ih*p.OutW+r1]
			maxInto(hv, xr[s:s+n], xr[s+1:s+1+n])
			maxInto(hv, hv, xr[s+2:s+2+n])
		}
	}
	// Otherwise (strided pools), tmp[j] = max(x[j : j+3]) for every j of a
	// row, by whole vectors, serves the 3-wide windows.
	strided := !vec && len(tmp) >= p.W-2 && p.W-2 >= 8
	for ih := 0; ih < p.H; ih++ {
		xr := x[ih*p.W : (ih+1)*p.W]
		hr := hm[ih*p.OutW : (ih+1)*p.OutW]
		if strided {
			tv := tmp[:p.W-2]
			maxInto(tv, xr, xr[1:])
			maxInto(tv, tv, xr[2:])
		}
		for ow := 0; ow < len(hr); ow++ {
			if vec && ow == r0 {
				ow = r1 - 1
				continue
			}
			a, b := ws[ow], we[ow]
			if b-a == 3 {
				if strided {
					hr[ow] = tmp[a]
				} else {
					hr[ow] = max(xr[a], xr[a+1], xr[a+2])
				}
				continue
			}
			m := xr[a]
			for _, v := range xr[a+1 : b] {
				m = max(m, v)
			}
			hr[ow] = m
		}
	}
	if q1 > q0 {
		// Rows q0..q1-1 of y from the rows of hm starting hs[q0].
		lo, hi := q0*p.OutW, q1*p.OutW
		off := (op.h.Start[q0] - q0) * p.OutW
		yv := y[lo:hi]
		maxInto(yv, hm[lo+off:hi+off], hm[lo+off+p.OutW:hi+off+p.OutW])
		maxInto(yv, yv, hm[lo+off+2*p.OutW:hi+off+2*p.OutW])
	}
	for oh := 0; oh < p.OutH; oh++ {
		if oh == q0 && q1 > q0 {
			oh = q1 - 1
			continue
		}
		yr := y[oh*p.OutW : (oh+1)*p.OutW]
		hs, he := op.h.Start[oh], op.h.End[oh]
		row := func(ih int) []T { return hm[ih*p.OutW : (ih+1)*p.OutW] }
		if he-hs == 1 {
			copy(yr, row(hs))
			continue
		}
		maxInto(yr, row(hs), row(hs+1))
		for ih := hs + 2; ih < he; ih++ {
			maxInto(yr, yr, row(ih))
		}
	}
}

// avgPoolPlane average-pools one plane x into y.
func avgPoolPlane[T float](op *poolKernel, x, y []T) {
	p := op.p
	for oh := 0; oh < p.OutH; oh++ {
		hs, he := op.h.Start[oh], op.h.End[oh]
		dh := T(op.h.Div[oh])
		for ow := 0; ow < p.OutW; ow++ {
			ws, we := op.w.Start[ow], op.w.End[ow]
			var s T
			for ih := hs; ih < he; ih++ {
				for _, v := range x[ih*p.W+ws : ih*p.W+we] {
					s += v
				}
			}
			y[oh*p.OutW+ow] = s / (dh * T(op.w.Div[ow]))
		}
	}
}

func (op *poolOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	gop := &poolGradOp{opMeta: newMeta("Pool2DGrad", op.p).with(op.eng), fwd: op}
	var dx *G.Node
	var err error
	if op.isMax() {
		// The max pool gradient finds each window's first maximum in x
		// from the forward output y (the maximum itself).
		dx, err = apply(gop, inputs[0], output, grad)
	} else {
		dx, err = apply(gop, grad)
	}
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx}, nil
}

// poolGradOp is the backward pass of poolOp: (x, y, dy) -> dx for max pooling
// (the gradient goes to the first maximum of each window, in row-major
// order), dy -> dx for average pooling (each window spreads dy/divisor).
type poolGradOp struct {
	opMeta
	fwd *poolOp // read-only: parameters and windows
	out outBuf
}

var _ G.Op = (*poolGradOp)(nil)

func (op *poolGradOp) Arity() int {
	if op.fwd.isMax() {
		return 3
	}
	return 1
}

func (op *poolGradOp) Type() hm.Type {
	if op.fwd.isMax() {
		return fnType(tt(4), tt(4), tt(4), tt(4))
	}
	return fnType(tt(4), tt(4))
}

func (op *poolGradOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	p := op.fwd.p
	return tensor.Shape{p.N, p.C, p.H, p.W}, nil
}

func (op *poolGradOp) Do(vs ...G.Value) (G.Value, error) {
	return dispatch(vs[0], func() (G.Value, error) { return poolGradDo[float32](op, vs) },
		func() (G.Value, error) { return poolGradDo[float64](op, vs) })
}

func poolGradDo[T float](op *poolGradOp, vs []G.Value) (G.Value, error) {
	f := op.fwd
	p := f.p
	var x, y []T
	var err error
	if f.isMax() {
		if x, err = floats[T](vs[0]); err != nil {
			return nil, err
		}
		if err := checkLen("pool input", x, p.N*p.C*p.H*p.W); err != nil {
			return nil, err
		}
		if y, err = floats[T](vs[1]); err != nil {
			return nil, err
		}
		if err := checkLen("pool output", y, p.N*p.C*p.OutH*p.OutW); err != nil {
			return nil, err
		}
	}
	dy, err := floats[T](vs[len(vs)-1])
	if err != nil {
		return nil, err
	}
	if err := checkLen("pool output gradient", dy, p.N*p.C*p.OutH*p.OutW); err != nil {
		return nil, err
	}
	out, dx := get[T](&op.out, tensor.Shape{p.N, p.C, p.H, p.W})
	if dy32, ok := any(dy).([]float32); ok {
		var x32, y32 []float32
		if f.isMax() {
			x32, y32 = any(x).([]float32), any(y).([]float32)
		}
		if err := op.engine().PoolBackward(p, x32, y32, dy32, any(dx).([]float32)); err != nil {
			return nil, errors.Wrapf(err, "Pool2D backward on %s", op.engine().Name())
		}
		return out, nil
	}
	poolBackward(&f.poolKernel, x, y, dy, dx)
	return out, nil
}

// poolBackward computes dx from dy (and for max pools x and y, see
// poolGradOp): the specification.
func poolBackward[T float](f *poolKernel, x, y, dy, dx []T) {
	p := f.p
	hw, ohw := p.H*p.W, p.OutH*p.OutW
	// Stride-1 3x3 pad-1 max pools (the Inception pool branches) route the
	// interior outputs with vector kernels where there are some.
	o := p.Opts
	v0, vn := 0, 0
	if f.isMax() && o.KernelH == 3 && o.KernelW == 3 && o.StrideH == 1 && o.StrideW == 1 &&
		o.Pad == (Pad2D{Top: 1, Bottom: 1, Left: 1, Right: 1}) && p.H >= 3 && p.W >= 3 {
		v0 = p.W + 1
		vn = ((p.H-1)*p.W - 1 - v0) &^ 7
	}
	// 3x3/2 max pools (the stem, between stages): vector kernels route
	// the outputs of whole rows where there are some.
	if n3 := f.stride2Run(); n3 >= 8 && maxPoolGrad3s2(f, x, y, dy, dx, n3) {
		return
	}
	parallelFor(p.N*p.C, hw, func(lo, hi int) {
		sc := scratchFor[T]()
		sel := sc.get(max(vn, 1))
		defer sc.put(sel)
		for nc := lo; nc < hi; nc++ {
			dxi, dyo := dx[nc*hw:(nc+1)*hw], dy[nc*ohw:(nc+1)*ohw]
			clear(dxi)
			if f.isMax() {
				xi, yo := x[nc*hw:(nc+1)*hw], y[nc*ohw:(nc+1)*ohw]
				if vn > 0 && maxPoolGrad3x3(xi, yo, dyo, dxi, sel, p.W, v0, vn) {
					maxPoolGradPlane(f, xi, yo, dyo, dxi, sel, v0, vn)
				} else {
					maxPoolGradPlane(f, xi, yo, dyo, dxi, nil, 0, 0)
				}
			} else {
				avgPoolGradPlane(f, dyo, dxi)
			}
		}
	})
}

// maxPoolGradPlane adds each dy to dx at the first maximum (row-major) of
// its window in x; a window holding a NaN sends it to its first NaN. y is
// the forward output, each window's maximum, so the search stops at the
// first element equal to it. Outputs oh*OutW+ow = v0+i with i < vn and
// sel[i] >= 0 are skipped: maxPoolGrad3x3 routed them.
func maxPoolGradPlane[T float](f *poolKernel, x, y, dy, dx, sel []T, v0, vn int) {
	p := f.p
	for oh := 0; oh < p.OutH; oh++ {
		for ow := 0; ow < p.OutW; ow++ {
			if i := oh*p.OutW + ow - v0; i >= 0 && i < vn && sel[i] >= 0 {
				continue // routed by maxPoolGrad3x3
			}
			routeMax(f, x, y, dy, dx, oh, ow)
		}
	}
}

// routeMax adds dy of output (oh, ow) to dx at argMax.
func routeMax[T float](f *poolKernel, x, y, dy, dx []T, oh, ow int) {
	dx[argMax(f, x, y, oh, ow)] += dy[oh*f.p.OutW+ow]
}

// argMax returns the index in x of the first maximum of output (oh, ow)'s
// window (the first NaN if it holds one).
func argMax[T float](f *poolKernel, x, y []T, oh, ow int) int {
	p := f.p
	hs, he := f.h.Start[oh], f.h.End[oh]
	ws, we := f.w.Start[ow], f.w.End[ow]
	m := y[oh*p.OutW+ow]
	arg := -1
	if he-hs == 3 && we-ws == 3 && m == m {
		if arg = firstMax3x3(x, p.W, hs*p.W+ws, m); arg >= 0 {
			return arg
		}
	}
search:
	for ih := hs; ih < he; ih++ {
		row := x[ih*p.W : ih*p.W+we]
		for iw := ws; iw < we; iw++ {
			if v := row[iw]; v == m || (m != m && v != v) {
				arg = ih*p.W + iw
				break search
			}
		}
	}
	if arg < 0 {
		// y does not come from x (not this op's forward output): fall
		// back to the full search.
		arg = hs*p.W + ws
		best := x[arg]
		for ih := hs; ih < he; ih++ {
			for iw := ws; iw < we; iw++ {
				if v := x[ih*p.W+iw]; v > best || (v != v && best == best) {
					best, arg = v, ih*p.W+iw
				}
			}
		}
	}
	return arg
}

// firstMax3x3 returns the index of the first element equal to m in the
// 3x3 window of x (row stride w) starting at i0, or -1. It visits the
// window backwards so that the last match is the first one, and tests
// float32 equality as bits(m-v) == 0 (exact for finite values: with
// gradual underflow m-v is 0 only when m == v), an integer test the
// compiler turns into conditional moves instead of branches, which
// mispredict on data. m = ±Inf makes m-v NaN: no match, and the caller
// falls back to the full search.
func firstMax3x3[T float](x []T, w, i0 int, m T) int {
	arg := -1
	if xf, ok := any(x).([]float32); ok {
		mf := any(m).(float32)
		for i := i0 + 2*w; i >= i0; i -= w {
			r := xf[i : i+3]
			if math.Float32bits(mf-r[2]) == 0 {
				arg = i + 2
			}
			if math.Float32bits(mf-r[1]) == 0 {
				arg = i + 1
			}
			if math.Float32bits(mf-r[0]) == 0 {
				arg = i
			}
		}
		return arg
	}
	for i := i0 + 2*w; i >= i0; i -= w {
		r := x[i : i+3]
		for j := 2; j >= 0; j-- {
			if r[j] == m {
				arg = i + j
			}
		}
	}
	return arg
}

// avgPoolGradPlane spreads each dy/divisor over its window.
func avgPoolGradPlane[T float](f *poolKernel, dy, dx []T) {
	p := f.p
	for oh := 0; oh < p.OutH; oh++ {
		hs, he := f.h.Start[oh], f.h.End[oh]
		for ow := 0; ow < p.OutW; ow++ {
			ws, we := f.w.Start[ow], f.w.End[ow]
			d := dy[oh*p.OutW+ow] / T(f.h.Div[oh]*f.w.Div[ow])
			for ih := hs; ih < he; ih++ {
				row := dx[ih*p.W+ws : ih*p.W+we]
				for i := range row {
					row[i] += d
				}
			}
		}
	}
}

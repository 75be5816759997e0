package ops

import (
	"math"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// LRNGeom describes one local response normalisation of an NCHW tensor;
// engines receive it with the op's float32 slices.
type LRNGeom struct {
	N, C, H, W int
	Opts       LRNOpts
}

// lrnParams are an LRN op's parameters (its hash covers them).
type lrnParams = LRNGeom

// lrnOp is local response normalisation across channels (see LRNOpts).
type lrnOp struct {
	opMeta
	p   lrnParams
	out outBuf
}

var (
	_ G.Op   = (*lrnOp)(nil)
	_ G.SDOp = (*lrnOp)(nil)
)

func newLRN(eng Engine, x *G.Node, o LRNOpts) (*G.Node, error) {
	if _, err := checkFloat(x); err != nil {
		return nil, errors.Wrap(err, "ops.LRN")
	}
	if err := checkRank(x, 4, "input"); err != nil {
		return nil, errors.Wrap(err, "ops.LRN")
	}
	if o.Size <= 0 || o.Size%2 == 0 {
		return nil, errors.Errorf("ops.LRN: size %d must be odd and positive", o.Size)
	}
	if !(o.K > 0) || o.Alpha < 0 || math.IsNaN(o.Beta) || math.IsInf(o.Beta, 0) || math.IsInf(o.Alpha, 0) || math.IsInf(o.K, 0) {
		return nil, errors.Errorf("ops.LRN: need K > 0, Alpha >= 0 and finite Beta, got %+v", o)
	}
	s := shapeOf(x)
	p := lrnParams{N: s[0], C: s[1], H: s[2], W: s[3], Opts: o}
	return apply(&lrnOp{opMeta: newMeta("LRN", p).with(eng), p: p}, x)
}

func (op *lrnOp) Arity() int         { return 1 }
func (op *lrnOp) Type() hm.Type      { return fnType(tt(4), tt(4)) }
func (op *lrnOp) DiffWRT(int) []bool { return []bool{true} }
func (op *lrnOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.p.N, op.p.C, op.p.H, op.p.W}, nil
}

// lrnScalePlane writes s = K + Alpha/Size * (sum of x² over the channel
// window of channel c) for one image x[C,HW] into the plane s[HW].
func lrnScalePlane[T float](p lrnParams, x []T, c int, s []T) {
	hw := p.H * p.W
	half := (p.Opts.Size - 1) / 2
	a := T(p.Opts.Alpha / float64(p.Opts.Size))
	k := T(p.Opts.K)
	clear(s)
	for j := max(0, c-half); j <= min(p.C-1, c+half); j++ {
		sqAcc(s, x[j*hw:(j+1)*hw])
	}
	affine(s, a, k)
}

// powPlane sets s[i] = s[i]^e, with a fast path for GoogLeNet's beta
// (e = -0.75: 1/(√s·√√s)).
func powPlane[T float](s []T, e float64) {
	switch e {
	case -0.75:
		if sf, ok := any(s).([]float32); ok {
			powNeg075(sf)
			return
		}
		for i, v := range s {
			r := math.Sqrt(float64(v))
			s[i] = T(1 / (r * math.Sqrt(r)))
		}
	case -1:
		for i, v := range s {
			s[i] = 1 / v
		}
	default:
		for i, v := range s {
			s[i] = T(math.Pow(float64(v), e))
		}
	}
}

// powNeg075Go is the scalar float32 path of powPlane for e = -0.75:
// float32 square roots (SQRTSS), each correctly rounded.
func powNeg075Go(s []float32) {
	for i, v := range s {
		r := float32(math.Sqrt(float64(v)))
		s[i] = 1 / (r * float32(math.Sqrt(float64(r))))
	}
}

func (op *lrnOp) Do(vs ...G.Value) (G.Value, error) {
	return dispatch(vs[0], func() (G.Value, error) { return lrnDo[float32](op, vs) },
		func() (G.Value, error) { return lrnDo[float64](op, vs) })
}

func lrnDo[T float](op *lrnOp, vs []G.Value) (G.Value, error) {
	p := op.p
	x, err := floats[T](vs[0])
	if err != nil {
		return nil, err
	}
	if err := checkLen("LRN input", x, p.N*p.C*p.H*p.W); err != nil {
		return nil, err
	}
	out, y := get[T](&op.out, tensor.Shape{p.N, p.C, p.H, p.W})
	if x32, ok := any(x).([]float32); ok {
		if err := op.engine().LRNForward(p, x32, any(y).([]float32)); err != nil {
			return nil, errors.Wrapf(err, "LRN on %s", op.engine().Name())
		}
		return out, nil
	}
	lrnForward(p, x, y)
	return out, nil
}

// lrnForward is y = LRN(x) (the specification; float32 engines call it
// through Reference.LRNForward).
func lrnForward[T float](p lrnParams, x, y []T) {
	hw, img := p.H*p.W, p.C*p.H*p.W
	// One unit of work is one (image, channel) plane.
	parallelFor(p.N*p.C, p.Opts.Size*hw, func(lo, hi int) {
		sc := scratchFor[T]()
		s := sc.get(hw)
		for u := lo; u < hi; u++ {
			n, c := u/p.C, u%p.C
			lrnScalePlane(p, x[n*img:(n+1)*img], c, s)
			powPlane(s, -p.Opts.Beta)
			mulInto(y[u*hw:(u+1)*hw], x[u*hw:(u+1)*hw], s)
		}
		sc.put(s)
	})
}

func (op *lrnOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	dx, err := apply(&lrnGradOp{opMeta: newMeta("LRNGrad", op.p).with(op.eng), p: op.p}, inputs[0], output, grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx}, nil
}

// lrnGradOp computes, from (x, y, dy),
//
//	dx_c = dy_c·s_c^-β - (2αβ/n)·x_c·Σ_{j: c ∈ window(j)} dy_j·y_j/s_j
//
// (the window is symmetric, so the sum runs over the window of c).
type lrnGradOp struct {
	opMeta
	p   lrnParams
	out outBuf
}

var _ G.Op = (*lrnGradOp)(nil)

func (op *lrnGradOp) Arity() int    { return 3 }
func (op *lrnGradOp) Type() hm.Type { return fnType(tt(4), tt(4), tt(4), tt(4)) }
func (op *lrnGradOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.p.N, op.p.C, op.p.H, op.p.W}, nil
}

func (op *lrnGradOp) Do(vs ...G.Value) (G.Value, error) {
	return dispatch(vs[0], func() (G.Value, error) { return lrnGradDo[float32](op, vs) },
		func() (G.Value, error) { return lrnGradDo[float64](op, vs) })
}

func lrnGradDo[T float](op *lrnGradOp, vs []G.Value) (G.Value, error) {
	p := op.p
	size := p.N * p.C * p.H * p.W
	var in [3][]T
	for i := range in {
		var err error
		if in[i], err = floats[T](vs[i]); err != nil {
			return nil, err
		}
		if err := checkLen("LRN gradient input", in[i], size); err != nil {
			return nil, err
		}
	}
	x, y, dy := in[0], in[1], in[2]
	out, dx := get[T](&op.out, tensor.Shape{p.N, p.C, p.H, p.W})
	if x32, ok := any(x).([]float32); ok {
		if err := op.engine().LRNBackward(p, x32, any(y).([]float32), any(dy).([]float32), any(dx).([]float32)); err != nil {
			return nil, errors.Wrapf(err, "LRN backward on %s", op.engine().Name())
		}
		return out, nil
	}
	lrnBackward(p, x, y, dy, dx)
	return out, nil
}

// lrnBackward is dx from x, y = LRN(x) and dy (the specification).
func lrnBackward[T float](p lrnParams, x, y, dy, dx []T) {
	hw, img := p.H*p.W, p.C*p.H*p.W
	half := (p.Opts.Size - 1) / 2
	coef := T(2 * p.Opts.Alpha * p.Opts.Beta / float64(p.Opts.Size))
	sc := scratchFor[T]()
	sp := sc.get(len(x)) // s^-β for every element
	r := sc.get(len(x))  // r = dy·y/s
	defer sc.put(sp)
	defer sc.put(r)
	// Phase 1, per plane: s, r = dy·y/s and s^-β.
	parallelFor(p.N*p.C, p.Opts.Size*hw, func(lo, hi int) {
		for u := lo; u < hi; u++ {
			n, c := u/p.C, u%p.C
			s := sp[u*hw : (u+1)*hw]
			lrnScalePlane(p, x[n*img:(n+1)*img], c, s)
			mulDivInto(r[u*hw:(u+1)*hw], dy[u*hw:(u+1)*hw], y[u*hw:(u+1)*hw], s)
			powPlane(s, -p.Opts.Beta)
		}
	})
	// Phase 2, per plane: dx_c = dy_c·s_c^-β − coef·x_c·Σ_{j in window} r_j.
	parallelFor(p.N*p.C, p.Opts.Size*hw, func(lo, hi int) {
		for u := lo; u < hi; u++ {
			n, c := u/p.C, u%p.C
			dc, xc := dx[u*hw:(u+1)*hw], x[u*hw:(u+1)*hw]
			du, su := dy[u*hw:(u+1)*hw], sp[u*hw:(u+1)*hw]
			mulInto(dc, du, su)
			for j := max(0, c-half); j <= min(p.C-1, c+half); j++ {
				subScaledProd(dc, xc, r[(n*p.C+j)*hw:(n*p.C+j+1)*hw], coef)
			}
		}
	})
}

// sqAccGo is sqAcc in Go.
func sqAccGo[T float](s, x []T) {
	x = x[:len(s)]
	for i, v := range x {
		s[i] += v * v
	}
}

// subScaledProdGo is subScaledProd in Go.
func subScaledProdGo[T float](d, x, r []T, c T) {
	x, r = x[:len(d)], r[:len(d)]
	for i := range d {
		d[i] -= c * x[i] * r[i]
	}
}

// mulIntoGo is mulInto in Go.
func mulIntoGo[T float](dst, a, b []T) {
	a, b = a[:len(dst)], b[:len(dst)]
	for i := range dst {
		dst[i] = a[i] * b[i]
	}
}

// mulDivIntoGo is mulDivInto in Go.
func mulDivIntoGo[T float](dst, a, b, c []T) {
	a, b, c = a[:len(dst)], b[:len(dst)], c[:len(dst)]
	for i := range dst {
		dst[i] = a[i] * b[i] / c[i]
	}
}

// affineGo is affine in Go: a multiply and an add, each rounded.
func affineGo[T float](s []T, a, k T) {
	for i := range s {
		s[i] = k + T(a*s[i]) // the conversion rounds the product: no FMA
	}
}

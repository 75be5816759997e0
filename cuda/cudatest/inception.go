package cudatest

import (
	"fmt"
	"math"

	"github.com/goinception/googlenet/cuda"
	"github.com/goinception/googlenet/ops"
)

// testInception runs a whole (small) Inception module forward and backward
// on the device, keeping every activation and gradient device-resident:
// the input, weights and upstream gradient go up once; the output and the
// gradients come down once at the end. The CPU path (ops.Reference for
// the convolutions, plain loops for ReLU, pooling and concat) is the
// reference.
func testInception(e *env) {
	const n, c, h, w = 2, 8, 7, 7
	hw := h * w
	// Branches in the module's documented order: 1x1, 3x3, 5x5, pool-proj.
	type conv struct {
		g    ops.ConvGeom
		w, b []float32
	}
	mk := func(cin, k, r int) conv {
		g := ops.ConvGeom{N: n, C: cin, H: h, W: w, K: k, R: r, S: r, PadTop: r / 2, PadLeft: r / 2, OutH: h, OutW: w}
		return conv{g, e.random(k * cin * r * r), e.random(k)}
	}
	b1 := mk(c, 4, 1)
	b2r, b2 := mk(c, 3, 1), mk(3, 5, 3)
	b3r, b3 := mk(c, 2, 1), mk(2, 3, 5)
	b4 := mk(c, 2, 1)
	outC := []int{4, 5, 3, 2}
	total := 14
	pg, err := cuda.NewPoolGeom(n, c, h, w, ops.PoolOpts{KernelH: 3, KernelW: 3, Pad: ops.Same(1)})
	e.check(err)
	x := e.random(n * c * hw)
	gOut := e.random(n * total * hw)

	// ---- CPU path ----
	cpu := ops.Reference{}
	fwd := func(cv conv, in []float32) []float32 {
		y := make([]float32, n*cv.g.K*hw)
		cpu.ConvForward(cv.g, in, cv.w, cv.b, y, true)
		return y
	}
	reluBwd := func(y, dy []float32) []float32 {
		dz := make([]float32, len(y))
		for i := range y {
			if y[i] > 0 {
				dz[i] = dy[i]
			}
		}
		return dz
	}
	type grads struct{ dw, db []float32 }
	bwd := func(cv conv, in, dz []float32) (grads, []float32) {
		gr := grads{make([]float32, len(cv.w)), make([]float32, cv.g.K)}
		cpu.ConvBackwardFilter(cv.g, in, dz, gr.dw, gr.db)
		din := make([]float32, n*cv.g.C*hw)
		cpu.ConvBackwardData(cv.g, cv.w, dz, din)
		return gr, din
	}
	p4y, am := refMaxPool(pg, x)
	p4 := make([]float32, len(p4y))
	for i, v := range p4y {
		p4[i] = float32(v)
	}
	y1 := fwd(b1, x)
	r2 := fwd(b2r, x)
	y2 := fwd(b2, r2)
	r3 := fwd(b3r, x)
	y3 := fwd(b3, r3)
	y4 := fwd(b4, p4)
	ys := [][]float32{y1, y2, y3, y4}
	out := make([]float32, n*total*hw)
	split := func(v []float32, b int) []float32 {
		off := 0
		for i := 0; i < b; i++ {
			off += outC[i]
		}
		r := make([]float32, n*outC[b]*hw)
		for i := 0; i < n; i++ {
			copy(r[i*outC[b]*hw:(i+1)*outC[b]*hw], v[(i*total+off)*hw:(i*total+off+outC[b])*hw])
		}
		return r
	}
	off := 0
	for b, y := range ys {
		for i := 0; i < n; i++ {
			copy(out[(i*total+off)*hw:(i*total+off+outC[b])*hw], y[i*outC[b]*hw:(i+1)*outC[b]*hw])
		}
		off += outC[b]
	}
	dx := make([]float32, len(x))
	addTo := func(dst, src []float32) {
		for i := range dst {
			dst[i] += src[i]
		}
	}
	g1, d := bwd(b1, x, reluBwd(y1, split(gOut, 0)))
	addTo(dx, d)
	g2, dr2 := bwd(b2, r2, reluBwd(y2, split(gOut, 1)))
	g2r, d := bwd(b2r, x, reluBwd(r2, dr2))
	addTo(dx, d)
	g3, dr3 := bwd(b3, r3, reluBwd(y3, split(gOut, 2)))
	g3r, d := bwd(b3r, x, reluBwd(r3, dr3))
	addTo(dx, d)
	g4, dp4 := bwd(b4, p4, reluBwd(y4, split(gOut, 3)))
	for i, a := range am {
		dx[i/(h*w)*h*w+int(a)] += dp4[i]
	}

	// ---- device path ----
	d2 := e.d
	type dconv struct {
		cv      conv
		w, b    cuda.Ptr
		dw, db  cuda.Ptr
		in, out cuda.Ptr
	}
	up := func(cv conv, in cuda.Ptr) *dconv {
		return &dconv{cv: cv, w: e.upload(cv.w), b: e.upload(cv.b), dw: e.poisoned(len(cv.w)),
			db: e.poisoned(cv.g.K), in: in, out: e.poisoned(n * cv.g.K * hw)}
	}
	px := e.upload(x)
	pp4, pam := e.poisoned(len(p4)), e.poisoned(len(p4))
	e.check(d2.MaxPoolForward(pg, px, pp4, pam))
	c1 := up(b1, px)
	c2r := up(b2r, px)
	c2 := up(b2, c2r.out)
	c3r := up(b3r, px)
	c3 := up(b3, c3r.out)
	c4 := up(b4, pp4)
	for _, cv := range []*dconv{c1, c2r, c2, c3r, c3, c4} {
		e.check(d2.ConvForward(cv.cv.g, cv.in, cv.w, cv.b, cv.out, true))
	}
	pout := e.poisoned(n * total * hw)
	e.check(d2.ConcatChannels(pout, n, hw, []cuda.Ptr{c1.out, c2.out, c3.out, c4.out}, outC))

	pg2 := e.upload(gOut)
	pdx := e.poisoned(len(x))
	tmp := e.poisoned(len(x))
	e.check(d2.Fill(pdx, 0, len(x)))
	// back runs one conv's backward: dz = relu'(out)*dy, then dw, db and
	// the input gradient into din.
	back := func(cv *dconv, dy, din cuda.Ptr) {
		k := n * cv.cv.g.K * hw
		dz := e.poisoned(k)
		e.check(d2.ReLUBackward(cv.out, dy, dz, k))
		e.check(d2.ConvBackwardFilter(cv.cv.g, cv.in, dz, cv.dw, cv.db))
		e.check(d2.ConvBackwardData(cv.cv.g, cv.w, dz, din))
	}
	off = 0
	dys := make([]cuda.Ptr, 4)
	for b := range outC {
		dys[b] = e.poisoned(n * outC[b] * hw)
		e.check(d2.ChannelCopy(pg2, total, off, dys[b], outC[b], 0, outC[b], n, hw))
		off += outC[b]
	}
	// The input fans out to four branches: their gradients accumulate.
	back(c1, dys[0], tmp)
	e.check(d2.Axpy(1, tmp, pdx, len(x)))
	for _, br := range [][2]*dconv{{c2, c2r}, {c3, c3r}} {
		dr := e.poisoned(n * br[0].cv.g.C * hw)
		back(br[0], dys[indexOf(br[0], c2, c3)], dr)
		back(br[1], dr, tmp)
		e.check(d2.Axpy(1, tmp, pdx, len(x)))
	}
	dp := e.poisoned(len(p4))
	back(c4, dys[3], dp)
	e.check(d2.MaxPoolBackward(pg, dp, pam, tmp))
	e.check(d2.Axpy(1, tmp, pdx, len(x)))

	e.relErr("out", e.download(pout, len(out)), out, FwdTol)
	e.relErr("dx", e.download(pdx, len(dx)), dx, GradTol)
	for i, pair := range []struct {
		cv *dconv
		g  grads
	}{{c1, g1}, {c2r, g2r}, {c2, g2}, {c3r, g3r}, {c3, g3}, {c4, g4}} {
		e.relErr(fmt.Sprintf("conv%d.dw", i), e.download(pair.cv.dw, len(pair.g.dw)), pair.g.dw, GradTol)
		e.relErr(fmt.Sprintf("conv%d.db", i), e.download(pair.cv.db, len(pair.g.db)), pair.g.db, GradTol)
	}
}

func indexOf[T comparable](v T, xs ...T) int {
	for i, x := range xs {
		if x == v {
			return i + 1 // branches 2 and 3 are dys[1] and dys[2]
		}
	}
	return -1
}

// relErr checks max|got - want| / max|want| <= tol (NaN fails).
func (e *env) relErr(what string, got, want []float32, tol float64) {
	e.t.Helper()
	var maxDiff, maxRef float64
	for i := range want {
		g, w := float64(got[i]), float64(want[i])
		if math.IsNaN(g) {
			e.t.Errorf("%s[%d] is NaN (never written)", what, i)
			return
		}
		maxDiff = math.Max(maxDiff, math.Abs(g-w))
		maxRef = math.Max(maxRef, math.Abs(w))
	}
	if rel := maxDiff / math.Max(maxRef, 1e-30); rel > tol {
		e.t.Errorf("%s: relative error %.3g > %g", what, rel, tol)
	}
}

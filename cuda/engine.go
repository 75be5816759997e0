package cuda

import (
	"github.com/pkg/errors"

	"github.com/goinception/googlenet/ops"
)

// Engine implements ops.Engine on a Device: each call uploads its host
// operands, runs the kernels and downloads the result. It is the drop-in
// path (graph.Options.Engine, inception.Config.Engine) that puts the
// kernels of a CPU Gorgonia graph on the GPU; the Device methods are the
// device-resident path.
//
// A failure of the device (an out-of-memory, a launch failure, a lost GPU)
// is returned as an error, which the Gorgonia machine running the op
// returns. Sizes are validated by package ops before an engine is called.
type Engine struct {
	dev     *Device
	name    string
	onClose func() error // closes an executor the engine owns (NewEngine's GPU)
}

var _ ops.Engine = (*Engine)(nil)

// NewEngineOn returns an Engine over ex (NewEngine picks the GPU).
func NewEngineOn(ex Executor) *Engine {
	return &Engine{dev: NewDevice(ex), name: "cuda(" + ex.Name() + ")"}
}

// Name returns "cuda(<executor>)".
func (e *Engine) Name() string { return e.name }

// Device returns the engine's device, for device-resident work.
func (e *Engine) Device() *Device { return e.dev }

// Close frees the engine's device memory and, for an engine from
// NewEngine, closes its GPU.
func (e *Engine) Close() error {
	err := e.dev.Close()
	if e.onClose != nil {
		if cerr := e.onClose(); err == nil {
			err = cerr
		}
		e.onClose = nil
	}
	return err
}

// hostCall is one engine call's device buffers.
type hostCall struct {
	d    *Device
	bufs []Ptr
	err  error
}

// in uploads v (nil gives the null pointer).
func (h *hostCall) in(v []float32) Ptr {
	if h.err != nil || v == nil {
		return 0
	}
	p := h.out(len(v))
	if h.err == nil {
		h.err = h.d.ex.Upload(p, v)
	}
	return p
}

// out allocates room for n values.
func (h *hostCall) out(n int) Ptr {
	if h.err != nil {
		return 0
	}
	p, err := h.d.pool.GetFloats(n)
	if err != nil {
		h.err = err
		return 0
	}
	h.bufs = append(h.bufs, p)
	return p
}

func (h *hostCall) do(f func() error) {
	if h.err == nil {
		h.err = f()
	}
}

func (h *hostCall) get(dst []float32, p Ptr) {
	if h.err == nil && dst != nil {
		h.err = h.d.ex.Download(dst, p)
	}
}

// finish returns the buffers and the call's first error, wrapped with op.
func (h *hostCall) finish(op string) error {
	for _, p := range h.bufs {
		if err := h.d.pool.Put(p); err != nil && h.err == nil {
			h.err = err
		}
	}
	return errors.Wrapf(h.err, "cuda: %s", op)
}

func convSizes(g ops.ConvGeom) (x, w, y int) {
	return g.N * g.C * g.H * g.W, g.K * g.C * g.R * g.S, g.N * g.K * g.OutH * g.OutW
}

// ConvForward: y = conv(x, w) + b (b may be nil), then ReLU if relu.
func (e *Engine) ConvForward(g ops.ConvGeom, x, w, b, y []float32, relu bool) error {
	h := hostCall{d: e.dev}
	nx, nw, ny := convSizes(g)
	dx, dw, db := h.in(x[:nx]), h.in(w[:nw]), h.in(b)
	dy := h.out(ny)
	h.do(func() error { return e.dev.ConvForward(g, dx, dw, db, dy, relu) })
	h.get(y[:ny], dy)
	return h.finish("ConvForward")
}

// ConvBackwardData: dx from dy and w.
func (e *Engine) ConvBackwardData(g ops.ConvGeom, w, dy, dx []float32) error {
	h := hostCall{d: e.dev}
	nx, nw, ny := convSizes(g)
	pw, pdy := h.in(w[:nw]), h.in(dy[:ny])
	pdx := h.out(nx)
	h.do(func() error { return e.dev.ConvBackwardData(g, pw, pdy, pdx) })
	h.get(dx[:nx], pdx)
	return h.finish("ConvBackwardData")
}

// ConvBackwardFilter: dw and db (db may be nil) from x and dy.
func (e *Engine) ConvBackwardFilter(g ops.ConvGeom, x, dy, dw, db []float32) error {
	h := hostCall{d: e.dev}
	nx, nw, ny := convSizes(g)
	px, pdy := h.in(x[:nx]), h.in(dy[:ny])
	pdw := h.out(nw)
	var pdb Ptr
	if db != nil {
		pdb = h.out(g.K)
	}
	h.do(func() error { return e.dev.ConvBackwardFilter(g, px, pdy, pdw, pdb) })
	h.get(dw[:nw], pdw)
	if db != nil {
		h.get(db[:g.K], pdb)
	}
	return h.finish("ConvBackwardFilter")
}

// Gemm: C = alpha*op(A)*op(B) + beta*C, row-major.
func (e *Engine) Gemm(ta, tb bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) error {
	if m == 0 || n == 0 {
		return nil
	}
	// Stored extents: the last row needs only its first cols entries.
	extent := func(rows, cols, ld int) int {
		if rows == 0 || cols == 0 {
			return 0
		}
		return (rows-1)*ld + cols
	}
	ar, ac := m, k
	if ta {
		ar, ac = k, m
	}
	br, bc := k, n
	if tb {
		br, bc = n, k
	}
	na, nb, nc := extent(ar, ac, lda), extent(br, bc, ldb), extent(m, n, ldc)
	h := hostCall{d: e.dev}
	var pa, pb Ptr
	if na > 0 {
		pa = h.in(a[:na])
	}
	if nb > 0 {
		pb = h.in(b[:nb])
	}
	var pc Ptr
	if beta != 0 {
		pc = h.in(c[:nc])
	} else {
		pc = h.out(nc)
	}
	h.do(func() error { return e.dev.Gemm(ta, tb, m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc) })
	// Download whole rows of C but restore the gaps between them, which
	// the GEMM never touches.
	if h.err == nil {
		tmp := make([]float32, nc)
		h.get(tmp, pc)
		if h.err == nil {
			for i := 0; i < m; i++ {
				copy(c[i*ldc:i*ldc+n], tmp[i*ldc:i*ldc+n])
			}
		}
	}
	return h.finish("Gemm")
}

// devicePool returns the device geometry of g, or ok false for adaptive
// pools with uneven windows, which run on the adaptive kernels.
func devicePool(g ops.PoolGeom) (pg PoolGeom, ok bool, err error) {
	o := g.Opts
	switch g.Kind {
	case "max", "avg":
	case "global":
		o = ops.PoolOpts{KernelH: g.H, KernelW: g.W}
	case "adaptive":
		if g.OutH <= 0 || g.OutW <= 0 || g.H%g.OutH != 0 || g.W%g.OutW != 0 {
			return pg, false, nil
		}
		kh, kw := g.H/g.OutH, g.W/g.OutW
		o = ops.PoolOpts{KernelH: kh, KernelW: kw, StrideH: kh, StrideW: kw}
	default:
		return pg, false, errors.Errorf("cuda: pool kind %q", g.Kind)
	}
	if pg, err = NewPoolGeom(g.N, g.C, g.H, g.W, o); err != nil {
		return pg, false, err
	}
	if pg.OutH != g.OutH || pg.OutW != g.OutW {
		return pg, false, errors.Errorf("cuda: pool %+v: device windows give %dx%d", g, pg.OutH, pg.OutW)
	}
	return pg, true, nil
}

// PoolForward pools x into y on the device (adaptive pools with uneven
// windows on ops.Reference).
func (e *Engine) PoolForward(g ops.PoolGeom, x, y []float32) error {
	pg, ok, err := devicePool(g)
	if err != nil {
		return err
	}
	nx, ny := g.N*g.C*g.H*g.W, g.N*g.C*g.OutH*g.OutW
	h := hostCall{d: e.dev}
	px, py := h.in(x[:nx]), h.out(ny)
	if !ok {
		h.do(func() error { return e.dev.AdaptiveAvgPoolForward(px, py, g.N*g.C, g.H, g.W, g.OutH, g.OutW) })
	} else if g.Kind == "max" {
		am := h.out(ny)
		h.do(func() error { return e.dev.MaxPoolForward(pg, px, py, am) })
	} else {
		h.do(func() error { return e.dev.AvgPoolForward(pg, px, py) })
	}
	h.get(y[:ny], py)
	return h.finish("PoolForward")
}

// PoolBackward computes dx from dy on the device; a max pool's window
// maxima are found again from x (the first maximum wins, as in ops).
func (e *Engine) PoolBackward(g ops.PoolGeom, x, y, dy, dx []float32) error {
	pg, ok, err := devicePool(g)
	if err != nil {
		return err
	}
	nx, ny := g.N*g.C*g.H*g.W, g.N*g.C*g.OutH*g.OutW
	h := hostCall{d: e.dev}
	pdy, pdx := h.in(dy[:ny]), h.out(nx)
	if !ok {
		h.do(func() error { return e.dev.AdaptiveAvgPoolBackward(pdy, pdx, g.N*g.C, g.H, g.W, g.OutH, g.OutW) })
	} else if g.Kind == "max" {
		px, py, am := h.in(x[:nx]), h.out(ny), h.out(ny)
		h.do(func() error { return e.dev.MaxPoolForward(pg, px, py, am) })
		h.do(func() error { return e.dev.MaxPoolBackward(pg, pdy, am, pdx) })
	} else {
		h.do(func() error { return e.dev.AvgPoolBackward(pg, pdy, pdx) })
	}
	h.get(dx[:nx], pdx)
	return h.finish("PoolBackward")
}

// LRNForward computes y = LRN(x) on the device.
func (e *Engine) LRNForward(g ops.LRNGeom, x, y []float32) error {
	n := g.N * g.C * g.H * g.W
	h := hostCall{d: e.dev}
	px, py, ps := h.in(x[:n]), h.out(n), h.out(n)
	h.do(func() error { return e.dev.LRNForward(g.N, g.C, g.H*g.W, g.Opts, px, py, ps) })
	h.get(y[:n], py)
	return h.finish("LRNForward")
}

// LRNBackward computes dx from x, y and dy on the device (the scale is
// computed again from x).
func (e *Engine) LRNBackward(g ops.LRNGeom, x, y, dy, dx []float32) error {
	n := g.N * g.C * g.H * g.W
	h := hostCall{d: e.dev}
	px, pdy, py, ps, pdx := h.in(x[:n]), h.in(dy[:n]), h.out(n), h.out(n), h.out(n)
	h.do(func() error { return e.dev.LRNForward(g.N, g.C, g.H*g.W, g.Opts, px, py, ps) })
	h.do(func() error { return e.dev.LRNBackward(g.N, g.C, g.H*g.W, g.Opts, px, py, ps, pdy, pdx) })
	h.get(dx[:n], pdx)
	return h.finish("LRNBackward")
}

package cuda

import (
	"github.com/pkg/errors"

	"github.com/goinception/googlenet/ops"
)

// PoolGeom is the geometry of one NCHW pooling: input [N,C,H,W], window
// KH x KW at stride SH, SW, padding on each side, output [N,C,OutH,OutW].
type PoolGeom struct {
	N, C, H, W                           int
	KH, KW, SH, SW                       int
	PadTop, PadLeft, PadBottom, PadRight int
	OutH, OutW                           int
	CountIncludePad                      bool // average pool divisor, see ops.PoolOpts
}

// NewPoolGeom returns the geometry of pooling an [n,c,h,w] input with o.
func NewPoolGeom(n, c, h, w int, o ops.PoolOpts) (PoolGeom, error) {
	sh, sw := max(o.StrideH, 1), max(o.StrideW, 1)
	p := o.Pad
	if n <= 0 || c <= 0 || h <= 0 || w <= 0 || o.KernelH <= 0 || o.KernelW <= 0 || o.StrideH < 0 || o.StrideW < 0 ||
		p.Top < 0 || p.Left < 0 || p.Bottom < 0 || p.Right < 0 {
		return PoolGeom{}, errors.Errorf("cuda: bad pooling of [%d,%d,%d,%d] with %+v", n, c, h, w, o)
	}
	if p.Top >= o.KernelH || p.Bottom >= o.KernelH || p.Left >= o.KernelW || p.Right >= o.KernelW {
		return PoolGeom{}, errors.Errorf("cuda: pooling padding %+v must be smaller than the window %dx%d", p, o.KernelH, o.KernelW)
	}
	g := PoolGeom{N: n, C: c, H: h, W: w, KH: o.KernelH, KW: o.KernelW, SH: sh, SW: sw,
		PadTop: p.Top, PadLeft: p.Left, PadBottom: p.Bottom, PadRight: p.Right,
		CountIncludePad: o.CountIncludePad}
	var errH, errW error
	g.OutH, errH = ops.PoolOutSize(h, o.KernelH, sh, p.Top, p.Bottom, o.CeilMode)
	g.OutW, errW = ops.PoolOutSize(w, o.KernelW, sw, p.Left, p.Right, o.CeilMode)
	if errH != nil || errW != nil || g.OutH <= 0 || g.OutW <= 0 {
		return PoolGeom{}, errors.Errorf("cuda: pooling window %dx%d larger than padded input %dx%d", o.KernelH, o.KernelW, h, w)
	}
	return g, checkInt("pooling", n*c*h*w, n*c*g.OutH*g.OutW)
}

func (g PoolGeom) check() error {
	if g.N <= 0 || g.C <= 0 || g.H <= 0 || g.W <= 0 || g.KH <= 0 || g.KW <= 0 || g.SH <= 0 || g.SW <= 0 ||
		g.OutH <= 0 || g.OutW <= 0 || g.PadTop < 0 || g.PadLeft < 0 || g.PadBottom < 0 || g.PadRight < 0 {
		return errors.Errorf("cuda: bad pooling geometry %+v (use NewPoolGeom)", g)
	}
	return checkInt("pooling", g.N*g.C*g.H*g.W, g.N*g.C*g.OutH*g.OutW)
}

func (g PoolGeom) maxArgs(a, b, c Ptr) []Arg {
	return []Arg{PtrArg(a), PtrArg(b), PtrArg(c), Int32Arg(g.N * g.C), Int32Arg(g.H), Int32Arg(g.W),
		Int32Arg(g.KH), Int32Arg(g.KW), Int32Arg(g.SH), Int32Arg(g.SW), Int32Arg(g.PadTop), Int32Arg(g.PadLeft),
		Int32Arg(g.OutH), Int32Arg(g.OutW)}
}

func (g PoolGeom) avgArgs(a, b Ptr) []Arg {
	inc := 0
	if g.CountIncludePad {
		inc = 1
	}
	return []Arg{PtrArg(a), PtrArg(b), Int32Arg(g.N * g.C), Int32Arg(g.H), Int32Arg(g.W),
		Int32Arg(g.KH), Int32Arg(g.KW), Int32Arg(g.SH), Int32Arg(g.SW), Int32Arg(g.PadTop), Int32Arg(g.PadLeft),
		Int32Arg(g.PadBottom), Int32Arg(g.PadRight), Int32Arg(g.OutH), Int32Arg(g.OutW), Int32Arg(inc)}
}

// MaxPoolForward writes y [N,C,OutH,OutW] and the int32 argmax (index
// ih*W+iw within the plane, first maximum wins) needed by the backward.
func (d *Device) MaxPoolForward(g PoolGeom, x, y, argmax Ptr) error {
	if err := g.check(); err != nil {
		return err
	}
	return d.run(launch1D("maxpool_fwd", g.N*g.C*g.OutH*g.OutW, g.maxArgs(x, y, argmax)...))
}

// MaxPoolBackward overwrites dx with dy routed to each window's argmax.
func (d *Device) MaxPoolBackward(g PoolGeom, dy, argmax, dx Ptr) error {
	if err := g.check(); err != nil {
		return err
	}
	return d.run(launch1D("maxpool_bwd", g.N*g.C*g.H*g.W, g.maxArgs(dy, argmax, dx)...))
}

// AvgPoolForward writes the window averages (divisor per
// g.CountIncludePad).
func (d *Device) AvgPoolForward(g PoolGeom, x, y Ptr) error {
	if err := g.check(); err != nil {
		return err
	}
	return d.run(launch1D("avgpool_fwd", g.N*g.C*g.OutH*g.OutW, g.avgArgs(x, y)...))
}

// AvgPoolBackward overwrites dx with Σ over covering windows of dy/divisor.
func (d *Device) AvgPoolBackward(g PoolGeom, dy, dx Ptr) error {
	if err := g.check(); err != nil {
		return err
	}
	return d.run(launch1D("avgpool_bwd", g.N*g.C*g.H*g.W, g.avgArgs(dy, dx)...))
}

func checkLRN(n, c, hw int, o ops.LRNOpts) error {
	if n <= 0 || c <= 0 || hw <= 0 || o.Size <= 0 || o.Size%2 == 0 {
		return errors.Errorf("cuda: bad LRN of [%d,%d,%d] with %+v (size must be odd)", n, c, hw, o)
	}
	return checkInt("LRN", n*c*hw)
}

// LRNForward writes y and the per-element scale (k + alpha/size*Σx²) that
// LRNBackward needs, for x [n,c,hw].
func (d *Device) LRNForward(n, c, hw int, o ops.LRNOpts, x, y, scale Ptr) error {
	if err := checkLRN(n, c, hw, o); err != nil {
		return err
	}
	return d.run(launch1D("lrn_fwd", n*c*hw, PtrArg(x), PtrArg(y), PtrArg(scale), Int32Arg(n), Int32Arg(c),
		Int32Arg(hw), Int32Arg(o.Size), FloatArg(float32(o.Alpha)), FloatArg(float32(o.Beta)), FloatArg(float32(o.K))))
}

// LRNBackward overwrites dx from x, the forward's y and scale, and dy.
func (d *Device) LRNBackward(n, c, hw int, o ops.LRNOpts, x, y, scale, dy, dx Ptr) error {
	if err := checkLRN(n, c, hw, o); err != nil {
		return err
	}
	return d.run(launch1D("lrn_bwd", n*c*hw, PtrArg(x), PtrArg(y), PtrArg(scale), PtrArg(dy), PtrArg(dx),
		Int32Arg(n), Int32Arg(c), Int32Arg(hw), Int32Arg(o.Size), FloatArg(float32(o.Alpha)), FloatArg(float32(o.Beta))))
}

func adaptiveArgs(a, b Ptr, nc, h, w, oh, ow int) []Arg {
	return []Arg{PtrArg(a), PtrArg(b), Int32Arg(nc), Int32Arg(h), Int32Arg(w), Int32Arg(oh), Int32Arg(ow)}
}

func checkAdaptive(nc, h, w, oh, ow int) error {
	if nc <= 0 || h <= 0 || w <= 0 || oh <= 0 || ow <= 0 || oh > h || ow > w {
		return errors.Errorf("cuda: bad adaptive pool of [%d,%d,%d] to %dx%d", nc, h, w, oh, ow)
	}
	return checkInt("adaptive pool", nc*h*w)
}

// AdaptiveAvgPoolForward writes y [nc,oh,ow], PyTorch's adaptive average
// pool of x [nc,h,w] (windows [i*h/oh, ceil((i+1)*h/oh)), uneven allowed).
func (d *Device) AdaptiveAvgPoolForward(x, y Ptr, nc, h, w, oh, ow int) error {
	if err := checkAdaptive(nc, h, w, oh, ow); err != nil {
		return err
	}
	return d.run(launch1D("adaptive_avg_fwd", nc*oh*ow, adaptiveArgs(x, y, nc, h, w, oh, ow)...))
}

// AdaptiveAvgPoolBackward overwrites dx [nc,h,w] from dy [nc,oh,ow].
func (d *Device) AdaptiveAvgPoolBackward(dy, dx Ptr, nc, h, w, oh, ow int) error {
	if err := checkAdaptive(nc, h, w, oh, ow); err != nil {
		return err
	}
	return d.run(launch1D("adaptive_avg_bwd", nc*h*w, adaptiveArgs(dy, dx, nc, h, w, oh, ow)...))
}

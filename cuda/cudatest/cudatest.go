package cudatest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/goinception/googlenet/cuda"
	"github.com/goinception/googlenet/ops"
)

// Tolerances of the suite (the GPU acceptance bounds of issue 7).
const (
	FwdTol  = 1e-4 // forward values, relative to the sum of term magnitudes
	GradTol = 1e-3 // gradients and updates
	AbsTol  = 1e-6
	// FDStep and FDTol check the float64 references' gradients by central
	// differences.
	FDStep = 1e-6
	FDTol  = 1e-6
)

// TestDevice runs the suite on d.
func TestDevice(t *testing.T, d *cuda.Device) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("cudatest seed %d", seed)
	e := &env{t: t, d: d, rng: rand.New(rand.NewPCG(seed, 7))}
	t.Run("MaxPool", e.sub(testMaxPool))
	t.Run("AvgPool", e.sub(testAvgPool))
	t.Run("LRN", e.sub(testLRN))
	t.Run("ReLUBackward", e.sub(testReLUBackward))
	t.Run("Concat", e.sub(testConcat))
	t.Run("AxpyFill", e.sub(testAxpyFill))
	t.Run("BiasGrad", e.sub(testBiasGrad))
	t.Run("SoftmaxCrossEntropy", e.sub(testSoftmaxXent))
	t.Run("SGDMomentum", e.sub(testSGD))
	t.Run("Linear", e.sub(testLinear))
	t.Run("GemmLarge", e.sub(testGemmLarge))
	t.Run("ConvIntoAndReLUView", e.sub(testConvInto))
	t.Run("Dropout", e.sub(testDropout))
	t.Run("InceptionModule", e.sub(testInception))
}

type env struct {
	t    *testing.T
	d    *cuda.Device
	rng  *rand.Rand
	bufs []cuda.Ptr
}

func (e *env) sub(f func(e *env)) func(*testing.T) {
	return func(t *testing.T) {
		c := &env{t: t, d: e.d, rng: e.rng}
		defer func() {
			for _, p := range c.bufs {
				if err := c.d.Pool().Put(p); err != nil {
					t.Error(err)
				}
			}
		}()
		f(c)
	}
}

func (e *env) check(err error) {
	e.t.Helper()
	if err != nil {
		e.t.Fatalf("%+v", err)
	}
}

func (e *env) alloc(n int) cuda.Ptr {
	e.t.Helper()
	p, err := e.d.Pool().GetFloats(n)
	e.check(err)
	e.bufs = append(e.bufs, p)
	return p
}

func (e *env) upload(v []float32) cuda.Ptr {
	e.t.Helper()
	p := e.alloc(len(v))
	e.check(e.d.Executor().Upload(p, v))
	return p
}

func (e *env) uploadInt(v []int32) cuda.Ptr {
	e.t.Helper()
	p := e.alloc(len(v))
	e.check(e.d.Executor().UploadInt32(p, v))
	return p
}

// poisoned returns a buffer of n NaNs (written by a copy, not by a kernel).
func (e *env) poisoned(n int) cuda.Ptr {
	e.t.Helper()
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(math.NaN())
	}
	return e.upload(v)
}

func (e *env) download(p cuda.Ptr, n int) []float32 {
	e.t.Helper()
	v := make([]float32, n)
	e.check(e.d.Executor().Download(v, p))
	return v
}

func (e *env) downloadInt(p cuda.Ptr, n int) []int32 {
	e.t.Helper()
	v := make([]int32, n)
	e.check(e.d.Executor().DownloadInt32(v, p))
	return v
}

func (e *env) random(n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(e.rng.Float64()*2 - 1)
	}
	return v
}

func f64(v []float32) []float64 {
	r := make([]float64, len(v))
	for i, x := range v {
		r[i] = float64(x)
	}
	return r
}

func absAll(v []float64) []float64 {
	r := make([]float64, len(v))
	for i, x := range v {
		r[i] = math.Abs(x)
	}
	return r
}

// compare checks got against want within tol*mag + AbsTol.
func (e *env) compare(what string, got []float32, want, mag []float64, tol float64) {
	e.t.Helper()
	if len(got) != len(want) {
		e.t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	bad := 0
	for i, w := range want {
		g := float64(got[i])
		lim := tol*mag[i] + AbsTol
		if math.IsNaN(g) != math.IsNaN(w) || (!math.IsNaN(w) && math.Abs(g-w) > lim) {
			if bad < 5 {
				e.t.Errorf("%s[%d] = %v, want %v (tolerance %.3g)", what, i, g, w, lim)
			}
			bad++
		}
	}
	if bad > 0 {
		e.t.Errorf("%s: %d of %d values out of tolerance", what, bad, len(want))
	}
}

// ---- pooling ----

// PoolCases are the pooling configurations the suite covers.
var PoolCases = []struct {
	Name       string
	N, C, H, W int
	O          ops.PoolOpts
}{
	{"3x3/2/ceil(googlenet pool)", 2, 3, 14, 14, ops.PoolOpts{KernelH: 3, KernelW: 3, StrideH: 2, StrideW: 2, CeilMode: true}},
	{"3x3/2/floor", 1, 2, 14, 13, ops.PoolOpts{KernelH: 3, KernelW: 3, StrideH: 2, StrideW: 2}},
	{"3x3/1/pad1(inception branch)", 2, 4, 7, 6, ops.PoolOpts{KernelH: 3, KernelW: 3, Pad: ops.Same(1)}},
	{"2x2/2/ceil/drop-last-window", 1, 3, 5, 5, ops.PoolOpts{KernelH: 2, KernelW: 2, StrideH: 2, StrideW: 2, Pad: ops.Same(1), CeilMode: true}},
	{"3x3/2/asympad(0,1,1,0)", 2, 2, 8, 7, ops.PoolOpts{KernelH: 3, KernelW: 3, StrideH: 2, StrideW: 2, Pad: ops.Pad2D{Top: 0, Left: 1, Bottom: 1, Right: 0}}},
	{"5x5/3(aux head)", 2, 3, 14, 14, ops.PoolOpts{KernelH: 5, KernelW: 5, StrideH: 3, StrideW: 3}},
	{"7x7/1(global)", 3, 5, 7, 7, ops.PoolOpts{KernelH: 7, KernelW: 7}},
	{"3x2/(2,1)/ceil/pad", 2, 2, 9, 6, ops.PoolOpts{KernelH: 3, KernelW: 2, StrideH: 2, StrideW: 1, Pad: ops.Pad2D{Top: 1, Left: 1, Bottom: 2, Right: 0}, CeilMode: true}},
}

// window returns the clipped input rows or columns of window o.
func window(o, k, s, pad, n int) (lo, hi int) {
	lo, hi = o*s-pad, o*s-pad+k
	return max(lo, 0), min(hi, n)
}

// refMaxPool returns y and the first-maximum argmax per window.
func refMaxPool(g cuda.PoolGeom, x []float32) ([]float64, []int32) {
	y := make([]float64, g.N*g.C*g.OutH*g.OutW)
	am := make([]int32, len(y))
	for nc := 0; nc < g.N*g.C; nc++ {
		for oh := 0; oh < g.OutH; oh++ {
			for ow := 0; ow < g.OutW; ow++ {
				h0, h1 := window(oh, g.KH, g.SH, g.PadTop, g.H)
				w0, w1 := window(ow, g.KW, g.SW, g.PadLeft, g.W)
				m, a := math.Inf(-1), int32(-1)
				for ih := h0; ih < h1; ih++ {
					for iw := w0; iw < w1; iw++ {
						if v := float64(x[(nc*g.H+ih)*g.W+iw]); a < 0 || v > m {
							m, a = v, int32(ih*g.W+iw)
						}
					}
				}
				i := (nc*g.OutH+oh)*g.OutW + ow
				y[i], am[i] = m, a
			}
		}
	}
	return y, am
}

func testMaxPool(e *env) {
	for _, tc := range PoolCases {
		g, err := cuda.NewPoolGeom(tc.N, tc.C, tc.H, tc.W, tc.O)
		e.check(err)
		nx, ny := g.N*g.C*g.H*g.W, g.N*g.C*g.OutH*g.OutW
		x := e.random(nx)
		dy := e.random(ny)
		px, pdy := e.upload(x), e.upload(dy)
		py, pam, pdx := e.poisoned(ny), e.poisoned(ny), e.poisoned(nx)
		e.check(e.d.MaxPoolForward(g, px, py, pam))
		e.check(e.d.MaxPoolBackward(g, pdy, pam, pdx))
		want, wantAm := refMaxPool(g, x)
		e.compare(tc.Name+"/y", e.download(py, ny), want, absAll(want), FwdTol)
		for i, a := range e.downloadInt(pam, ny) {
			if a != wantAm[i] {
				e.t.Errorf("%s: argmax[%d] = %d, want %d", tc.Name, i, a, wantAm[i])
				break
			}
		}
		dx, mag := make([]float64, nx), make([]float64, nx)
		for i, a := range wantAm {
			j := i/(g.OutH*g.OutW)*g.H*g.W + int(a)
			dx[j] += float64(dy[i])
			mag[j] += math.Abs(float64(dy[i]))
		}
		e.compare(tc.Name+"/dx", e.download(pdx, nx), dx, mag, GradTol)
	}
}

// divisor mirrors the average pool's divisor (see kernels/pool.cu).
func divisor(g cuda.PoolGeom, oh, ow int) int {
	h0, w0 := oh*g.SH-g.PadTop, ow*g.SW-g.PadLeft
	if g.CountIncludePad {
		return (min(h0+g.KH, g.H+g.PadBottom) - h0) * (min(w0+g.KW, g.W+g.PadRight) - w0)
	}
	a0, a1 := window(oh, g.KH, g.SH, g.PadTop, g.H)
	b0, b1 := window(ow, g.KW, g.SW, g.PadLeft, g.W)
	return max(a1-a0, 0) * max(b1-b0, 0)
}

// refAvgPool is the forward (adjoint=false: x -> y) or its transpose
// (adjoint=true: dy -> dx) of average pooling, with magnitudes.
func refAvgPool(g cuda.PoolGeom, in []float32, adjoint bool) (out, mag []float64) {
	if adjoint {
		out = make([]float64, g.N*g.C*g.H*g.W)
	} else {
		out = make([]float64, g.N*g.C*g.OutH*g.OutW)
	}
	mag = make([]float64, len(out))
	for nc := 0; nc < g.N*g.C; nc++ {
		for oh := 0; oh < g.OutH; oh++ {
			for ow := 0; ow < g.OutW; ow++ {
				d := divisor(g, oh, ow)
				if d == 0 {
					continue
				}
				o := (nc*g.OutH+oh)*g.OutW + ow
				h0, h1 := window(oh, g.KH, g.SH, g.PadTop, g.H)
				w0, w1 := window(ow, g.KW, g.SW, g.PadLeft, g.W)
				for ih := h0; ih < h1; ih++ {
					for iw := w0; iw < w1; iw++ {
						i := (nc*g.H+ih)*g.W + iw
						if adjoint {
							v := float64(in[o]) / float64(d)
							out[i] += v
							mag[i] += math.Abs(v)
						} else {
							v := float64(in[i]) / float64(d)
							out[o] += v
							mag[o] += math.Abs(v)
						}
					}
				}
			}
		}
	}
	return out, mag
}

func dot64(a []float64, b []float32) float64 {
	s := 0.0
	for i := range a {
		s += a[i] * float64(b[i])
	}
	return s
}

func testAvgPool(e *env) {
	for _, tc := range PoolCases {
		for _, inc := range []bool{false, true} {
			o := tc.O
			o.CountIncludePad = inc
			name := fmt.Sprintf("%s/includePad=%v", tc.Name, inc)
			g, err := cuda.NewPoolGeom(tc.N, tc.C, tc.H, tc.W, o)
			e.check(err)
			nx, ny := g.N*g.C*g.H*g.W, g.N*g.C*g.OutH*g.OutW
			x, dy := e.random(nx), e.random(ny)
			px, pdy := e.upload(x), e.upload(dy)
			py, pdx := e.poisoned(ny), e.poisoned(nx)
			e.check(e.d.AvgPoolForward(g, px, py))
			e.check(e.d.AvgPoolBackward(g, pdy, pdx))
			want, mag := refAvgPool(g, x, false)
			wantDx, magDx := refAvgPool(g, dy, true)
			// The reference backward is the reference forward's adjoint.
			if l, r := dot64(want, dy), dot64(wantDx, x); math.Abs(l-r) > 1e-9*(math.Abs(l)+1) {
				e.t.Errorf("%s: reference adjoint identity %v != %v", name, l, r)
			}
			e.compare(name+"/y", e.download(py, ny), want, mag, FwdTol)
			e.compare(name+"/dx", e.download(pdx, nx), wantDx, magDx, GradTol)
		}
	}
}

// ---- LRN ----

func refLRN(n, c, hw int, o ops.LRNOpts, x []float64) (y, scale []float64) {
	y, scale = make([]float64, len(x)), make([]float64, len(x))
	half := o.Size / 2
	for i := 0; i < n; i++ {
		for ch := 0; ch < c; ch++ {
			for p := 0; p < hw; p++ {
				s := 0.0
				for j := max(ch-half, 0); j <= min(ch+half, c-1); j++ {
					v := x[(i*c+j)*hw+p]
					s += v * v
				}
				t := (i*c+ch)*hw + p
				scale[t] = o.K + o.Alpha/float64(o.Size)*s
				y[t] = x[t] * math.Pow(scale[t], -o.Beta)
			}
		}
	}
	return y, scale
}

// refLRNGrad is the analytic gradient of Σ y*dy (see kernels/lrn.cu).
func refLRNGrad(n, c, hw int, o ops.LRNOpts, x, dy []float64) (dx, mag []float64) {
	y, scale := refLRN(n, c, hw, o, x)
	dx, mag = make([]float64, len(x)), make([]float64, len(x))
	half := o.Size / 2
	for i := 0; i < n; i++ {
		for ch := 0; ch < c; ch++ {
			for p := 0; p < hw; p++ {
				t := (i*c+ch)*hw + p
				a := dy[t] * math.Pow(scale[t], -o.Beta)
				s, sm := 0.0, 0.0
				for j := max(ch-half, 0); j <= min(ch+half, c-1); j++ {
					u := (i*c+j)*hw + p
					s += dy[u] * y[u] / scale[u]
					sm += math.Abs(dy[u] * y[u] / scale[u])
				}
				f := 2 * o.Alpha * o.Beta / float64(o.Size) * x[t]
				dx[t] = a - f*s
				mag[t] = math.Abs(a) + math.Abs(f)*sm
			}
		}
	}
	return dx, mag
}

// fdCheck compares grad with central differences of f at x.
func (e *env) fdCheck(what string, x, grad []float64, f func([]float64) float64) {
	e.t.Helper()
	xx := append([]float64(nil), x...)
	for i := range xx {
		v := xx[i]
		xx[i] = v + FDStep
		fp := f(xx)
		xx[i] = v - FDStep
		fm := f(xx)
		xx[i] = v
		fd := (fp - fm) / (2 * FDStep)
		if math.Abs(fd-grad[i]) > FDTol*(1+math.Abs(fd)) {
			e.t.Errorf("%s: reference gradient[%d] = %v, finite difference %v", what, i, grad[i], fd)
			return
		}
	}
}

func testLRN(e *env) {
	for _, tc := range []struct {
		name     string
		n, c, hw int
		o        ops.LRNOpts
	}{
		{"googlenet", 2, 7, 12, ops.LRNOpts{Size: 5, Alpha: 1e-4, Beta: 0.75, K: 1}},
		{"strong", 2, 9, 5, ops.LRNOpts{Size: 5, Alpha: 2, Beta: 0.75, K: 1}},
		{"size3/k2", 1, 4, 6, ops.LRNOpts{Size: 3, Alpha: 0.5, Beta: 0.5, K: 2}},
		{"size>channels", 1, 2, 4, ops.LRNOpts{Size: 5, Alpha: 1, Beta: 0.75, K: 1}},
	} {
		tot := tc.n * tc.c * tc.hw
		x, dy := e.random(tot), e.random(tot)
		wantY, wantS := refLRN(tc.n, tc.c, tc.hw, tc.o, f64(x))
		wantDx, magDx := refLRNGrad(tc.n, tc.c, tc.hw, tc.o, f64(x), f64(dy))
		e.fdCheck(tc.name, f64(x), wantDx, func(x []float64) float64 {
			y, _ := refLRN(tc.n, tc.c, tc.hw, tc.o, x)
			return dot64(y, dy)
		})
		px, pdy := e.upload(x), e.upload(dy)
		py, ps, pdx := e.poisoned(tot), e.poisoned(tot), e.poisoned(tot)
		e.check(e.d.LRNForward(tc.n, tc.c, tc.hw, tc.o, px, py, ps))
		e.check(e.d.LRNBackward(tc.n, tc.c, tc.hw, tc.o, px, py, ps, pdy, pdx))
		e.compare(tc.name+"/y", e.download(py, tot), wantY, absAll(wantY), FwdTol)
		e.compare(tc.name+"/scale", e.download(ps, tot), wantS, absAll(wantS), FwdTol)
		e.compare(tc.name+"/dx", e.download(pdx, tot), wantDx, magDx, GradTol)
	}
}

// ---- elementwise and data movement ----

func testReLUBackward(e *env) {
	n := 1000
	y, dy := e.random(n), e.random(n)
	for i := 0; i < n; i += 7 {
		y[i] = 0 // the boundary: ReLU'(0) = 0
	}
	pdx := e.poisoned(n)
	e.check(e.d.ReLUBackward(e.upload(y), e.upload(dy), pdx, n))
	want := make([]float64, n)
	for i := range want {
		if y[i] > 0 {
			want[i] = float64(dy[i])
		}
	}
	e.compare("dx", e.download(pdx, n), want, absAll(want), GradTol)
}

func testConcat(e *env) {
	n, hw := 3, 10
	chans := []int{4, 1, 6, 2} // the four branches of an Inception module, in order
	total := 0
	var srcs []cuda.Ptr
	var host [][]float32
	for _, c := range chans {
		v := e.random(n * c * hw)
		host = append(host, v)
		srcs = append(srcs, e.upload(v))
		total += c
	}
	dst := e.poisoned(n * total * hw)
	e.check(e.d.ConcatChannels(dst, n, hw, srcs, chans))
	got := e.download(dst, n*total*hw)
	want := make([]float64, len(got))
	off := 0
	for b, c := range chans {
		for i := 0; i < n; i++ {
			for ch := 0; ch < c; ch++ {
				for p := 0; p < hw; p++ {
					want[(i*total+off+ch)*hw+p] = float64(host[b][(i*c+ch)*hw+p])
				}
			}
		}
		off += c
	}
	e.compare("concat", got, want, absAll(want), FwdTol)

	// The split (concat's backward, and its adjoint) recovers each input.
	off = 0
	for b, c := range chans {
		part := e.poisoned(n * c * hw)
		e.check(e.d.ChannelCopy(dst, total, off, part, c, 0, c, n, hw))
		w := f64(host[b])
		e.compare(fmt.Sprintf("split[%d]", b), e.download(part, n*c*hw), w, absAll(w), GradTol)
		off += c
	}
	if err := e.d.ChannelCopy(dst, total, total-1, srcs[0], 4, 0, 2, n, hw); err == nil {
		e.t.Error("ChannelCopy past the source's channels: no error")
	}
}

func testAxpyFill(e *env) {
	n := 777
	x, y := e.random(n), e.random(n)
	py := e.upload(y)
	e.check(e.d.Axpy(-0.5, e.upload(x), py, n))
	want, mag := make([]float64, n), make([]float64, n)
	for i := range want {
		want[i] = float64(y[i]) - 0.5*float64(x[i])
		mag[i] = math.Abs(float64(y[i])) + 0.5*math.Abs(float64(x[i]))
	}
	e.compare("axpy", e.download(py, n), want, mag, GradTol)
	pf := e.poisoned(n)
	e.check(e.d.Fill(pf, 2.5, n))
	for i := range want {
		want[i] = 2.5
	}
	e.compare("fill", e.download(pf, n), want, absAll(want), FwdTol)
}

func testBiasGrad(e *env) {
	for _, sz := range [][3]int{{2, 5, 49}, {1, 3, 1}, {4, 7, 300}} {
		n, k, hw := sz[0], sz[1], sz[2]
		dy := e.random(n * k * hw)
		pdb := e.poisoned(k)
		e.check(e.d.BiasGrad(e.upload(dy), pdb, n, k, hw))
		want, mag := make([]float64, k), make([]float64, k)
		for i := 0; i < n; i++ {
			for c := 0; c < k; c++ {
				for p := 0; p < hw; p++ {
					v := float64(dy[(i*k+c)*hw+p])
					want[c] += v
					mag[c] += math.Abs(v)
				}
			}
		}
		e.compare(fmt.Sprintf("db%v", sz), e.download(pdb, k), want, mag, GradTol)
	}
}

// refXent returns the per-row losses and the gradient of scale*Σ loss.
func refXent(z []float64, labels []int32, n, k int, scale float64) (loss, grad []float64) {
	loss, grad = make([]float64, n), make([]float64, n*k)
	for i := 0; i < n; i++ {
		row := z[i*k : (i+1)*k]
		m := math.Inf(-1)
		for _, v := range row {
			m = math.Max(m, v)
		}
		s := 0.0
		for _, v := range row {
			s += math.Exp(v - m)
		}
		lse := m + math.Log(s)
		l := int(labels[i])
		if l < 0 || l >= k {
			loss[i] = math.NaN()
			for j := range row {
				grad[i*k+j] = math.NaN()
			}
			continue
		}
		loss[i] = lse - row[l]
		for j, v := range row {
			p := math.Exp(v - lse)
			if j == l {
				p--
			}
			grad[i*k+j] = scale * p
		}
	}
	return loss, grad
}

func testSoftmaxXent(e *env) {
	for _, sz := range [][2]int{{5, 1000}, {3, 7}, {2, 300}} {
		n, k := sz[0], sz[1]
		z := e.random(n * k)
		for i := range z {
			z[i] *= 8 // logits of a few units, like a trained network's
		}
		labels := make([]int32, n)
		for i := range labels {
			labels[i] = int32(e.rng.IntN(k))
		}
		scale := 1 / float64(n)
		wantL, wantG := refXent(f64(z), labels, n, k, scale)
		if k <= 10 {
			e.fdCheck(fmt.Sprintf("xent%v", sz), f64(z), wantG, func(z []float64) float64 {
				l, _ := refXent(z, labels, n, k, scale)
				s := 0.0
				for _, v := range l {
					s += scale * v
				}
				return s
			})
		}
		pl, pg := e.poisoned(n), e.poisoned(n*k)
		e.check(e.d.SoftmaxCrossEntropy(e.upload(z), e.uploadInt(labels), pl, pg, n, k, float32(scale)))
		magL := make([]float64, n)
		for i := range magL {
			magL[i] = math.Abs(wantL[i]) + 10 // the loss is a difference of terms of size |z|
		}
		e.compare(fmt.Sprintf("loss%v", sz), e.download(pl, n), wantL, magL, FwdTol)
		magG := make([]float64, n*k)
		for i := range magG {
			magG[i] = scale
		}
		e.compare(fmt.Sprintf("grad%v", sz), e.download(pg, n*k), wantG, magG, GradTol)
	}
	// A label out of range poisons its row with NaN, and only its row.
	z := e.random(2 * 4)
	pl, pg := e.poisoned(2), e.poisoned(8)
	e.check(e.d.SoftmaxCrossEntropy(e.upload(z), e.uploadInt([]int32{1, 4}), pl, pg, 2, 4, 0.5))
	l := e.download(pl, 2)
	if math.IsNaN(float64(l[0])) || !math.IsNaN(float64(l[1])) {
		e.t.Errorf("losses with labels {1, 4} of 4 classes = %v, want {finite, NaN}", l)
	}
}

func testSGD(e *env) {
	n := 513
	w, v := e.random(n), e.random(n)
	lr, mu, wd := 0.1, 0.9, 2e-4
	pw, pv := e.upload(w), e.upload(v)
	ww, vv := f64(w), f64(v)
	for step := 0; step < 3; step++ {
		g := e.random(n)
		e.check(e.d.SGDMomentum(pw, e.upload(g), pv, n, float32(lr), float32(mu), float32(wd)))
		for i := range ww {
			gg := float64(g[i]) + wd*ww[i]
			vv[i] = mu*vv[i] + gg
			ww[i] -= lr * vv[i]
		}
	}
	mag := make([]float64, n)
	for i := range mag {
		mag[i] = 1 + math.Abs(ww[i])
	}
	e.compare("w", e.download(pw, n), ww, mag, GradTol)
	e.compare("v", e.download(pv, n), vv, mag, GradTol)
}

func testLinear(e *env) {
	for _, sz := range [][3]int{{4, 1024, 10}, {3, 7, 130}, {65, 33, 70}} {
		n, in, out := sz[0], sz[1], sz[2]
		x, w, b := e.random(n*in), e.random(out*in), e.random(out)
		for _, relu := range []bool{false, true} {
			py := e.poisoned(n * out)
			e.check(e.d.Linear(e.upload(x), e.upload(w), e.upload(b), py, n, in, out, relu))
			want, mag := make([]float64, n*out), make([]float64, n*out)
			for i := 0; i < n; i++ {
				for o := 0; o < out; o++ {
					s, m := float64(b[o]), math.Abs(float64(b[o]))
					for j := 0; j < in; j++ {
						t := float64(x[i*in+j]) * float64(w[o*in+j])
						s += t
						m += math.Abs(t)
					}
					if relu {
						s = math.Max(s, 0)
					}
					want[i*out+o], mag[i*out+o] = s, m
				}
			}
			e.compare(fmt.Sprintf("linear%v/relu=%v", sz, relu), e.download(py, n*out), want, mag, FwdTol)
		}
	}
}

func testDropout(e *env) {
	n := 3000
	x := e.random(n)
	px := e.upload(x)
	for _, tc := range []struct {
		seed, step uint64
		index      int
		rate       float64
	}{{1, 0, 0, 0.4}, {42, 17, 2, 0.7}, {7, 3, 1, 0}} {
		py := e.poisoned(n)
		e.check(e.d.Dropout(px, py, n, tc.seed, tc.step, tc.index, tc.rate))
		got := e.download(py, n)
		want := make([]float64, n)
		kept := 0
		for i := range want {
			if ops.DropoutKeep(tc.seed, tc.step, tc.index, i, tc.rate) {
				want[i] = float64(x[i]) / (1 - tc.rate)
				kept++
			}
		}
		e.compare(fmt.Sprintf("dropout%+v", tc), got, want, absAll(want), FwdTol)
		if frac := float64(kept) / float64(n); math.Abs(frac-(1-tc.rate)) > 0.05 {
			e.t.Errorf("dropout%+v kept %.3f of the elements", tc, frac)
		}
	}
}

// testGemmLarge covers shapes that select the 128x128 kernel (and edges
// just past a tile), all transposes, alpha/beta and leading dimensions
// wider than the matrix. (ops/opstest covers the small shapes.)
func testGemmLarge(e *env) {
	for _, sz := range [][3]int{{128, 128, 8}, {130, 257, 19}, {200, 129, 70}, {127, 300, 5}} {
		m, n, k := sz[0], sz[1], sz[2]
		for _, ta := range []bool{false, true} {
			for _, tb := range []bool{false, true} {
				alpha, beta := float32(0.5), float32(-1)
				ar, ac := m, k
				if ta {
					ar, ac = k, m
				}
				br, bc := k, n
				if tb {
					br, bc = n, k
				}
				lda, ldb, ldc := ac+1, bc+3, n+2
				a, b, c := e.random(ar*lda), e.random(br*ldb), e.random(m*ldc)
				pc := e.upload(c)
				e.check(e.d.Gemm(ta, tb, m, n, k, alpha, e.upload(a), lda, e.upload(b), ldb, beta, pc, ldc))
				got := e.download(pc, m*ldc)
				want, mag := make([]float64, m*ldc), make([]float64, m*ldc)
				for i := 0; i < m; i++ {
					for j := 0; j < ldc; j++ {
						o := i*ldc + j
						if j >= n { // outside C: must be untouched
							want[o], mag[o] = float64(c[o]), 0
							continue
						}
						s, sm := 0.0, 0.0
						for p := 0; p < k; p++ {
							var av, bv float32
							if ta {
								av = a[p*lda+i]
							} else {
								av = a[i*lda+p]
							}
							if tb {
								bv = b[j*ldb+p]
							} else {
								bv = b[p*ldb+j]
							}
							s += float64(av) * float64(bv)
							sm += math.Abs(float64(av) * float64(bv))
						}
						want[o] = float64(alpha)*s + float64(beta)*float64(c[o])
						mag[o] = math.Abs(float64(alpha))*sm + math.Abs(float64(beta)*float64(c[o]))
					}
				}
				e.compare(fmt.Sprintf("gemm(%v,%v,%d,%d,%d)", ta, tb, m, n, k), got, want, mag, FwdTol)
			}
		}
	}
}

// testConvInto writes two convolutions into channel slices of one wider
// tensor (an Inception module's output without a concat copy), and runs the
// ReLU backward on such a slice.
func testConvInto(e *env) {
	n, c, h, w := 3, 4, 5, 6
	hw := h * w
	gs := []ops.ConvGeom{
		{N: n, C: c, H: h, W: w, K: 2, R: 1, S: 1, OutH: h, OutW: w},
		{N: n, C: c, H: h, W: w, K: 3, R: 3, S: 3, PadTop: 1, PadLeft: 1, OutH: h, OutW: w},
	}
	total := 5
	x := e.random(n * c * hw)
	px := e.upload(x)
	out := e.poisoned(n * total * hw)
	want := make([]float64, n*total*hw)
	mag := make([]float64, len(want))
	off := 0
	for _, g := range gs {
		wt, b := e.random(g.K*g.C*g.R*g.S), e.random(g.K)
		e.check(e.d.ConvForwardInto(g, px, e.upload(wt), e.upload(b), out.Add(off*hw), total*hw, true))
		y := make([]float32, n*g.K*hw)
		ops.Reference{}.ConvForward(g, x, wt, b, y, true)
		for i := 0; i < n; i++ {
			for j := 0; j < g.K*hw; j++ {
				v := float64(y[i*g.K*hw+j])
				want[(i*total+off)*hw+j] = v
				mag[(i*total+off)*hw+j] = math.Abs(v) + 1
			}
		}
		off += g.K
	}
	got := e.download(out, len(want))
	e.compare("conv into slices", got, want, mag, FwdTol)

	dy := e.random(n * total * hw)
	pdz := e.poisoned(n * 3 * hw)
	e.check(e.d.ReLUBackwardView(out.Add(2*hw), e.upload(dy).Add(2*hw), pdz, n, 3, hw, total*hw))
	wantDz := make([]float64, n*3*hw)
	for i := 0; i < n; i++ {
		for j := 0; j < 3*hw; j++ {
			o := (i*total+2)*hw + j
			if got[o] > 0 {
				wantDz[i*3*hw+j] = float64(dy[o])
			}
		}
	}
	e.compare("relu backward on a slice", e.download(pdz, len(wantDz)), wantDz, absAll(wantDz), GradTol)
}

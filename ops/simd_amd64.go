package ops

import "golang.org/x/sys/cpu"

// hasAVX reports whether powNeg075AVX can run.
var hasAVX = cpu.X86.HasAVX

// powNeg075AVX is powPlane's float32 path for e = -0.75 in AVX
// (simd_amd64.s), for n a multiple of 8.
//
//go:noescape
func powNeg075AVX(s *float32, n int)

// powNeg075 sets s[i] = s[i]^-0.75 as 1/(√s·√√s) in float32, eight lanes
// at a time where AVX is available; the results are bit-identical to
// powNeg075Go's.
func powNeg075(s []float32) {
	if hasAVX {
		if n8 := len(s) &^ 7; n8 > 0 {
			powNeg075AVX(&s[0], n8)
			s = s[n8:]
		}
	}
	powNeg075Go(s)
}

// maxNaNAVX is maxInto's float32 kernel in AVX (simd_amd64.s) for n a
// multiple of 8.
//
//go:noescape
func maxNaNAVX(dst, a, b *float32, n int)

// maxInto sets dst[i] = max(a[i], b[i]) (NaN if either is NaN) for
// i < len(dst); a and b are at least as long, and dst may alias them
// element for element.
func maxInto[T float](dst, a, b []T) {
	if hasAVX {
		if d, ok := any(dst).([]float32); ok {
			if n8 := len(d) &^ 7; n8 > 0 {
				maxNaNAVX(&d[0], &any(a).([]float32)[:n8][0], &any(b).([]float32)[:n8][0], n8)
				dst, a, b = dst[n8:], a[n8:], b[n8:]
			}
		}
	}
	maxIntoGo(dst, a, b)
}

// reluAVX is reluInto's float32 kernel (simd_amd64.s), n a multiple of 8.
//
//go:noescape
func reluAVX(y, x *float32, n int)

// reluGradAVX is reluGradInto's float32 kernel (simd_amd64.s), n a
// multiple of 8.
//
//go:noescape
func reluGradAVX(dx, y, dy *float32, n int)

// reluInto sets y[i] = x[i] if x[i] > 0, else 0, for i < len(y).
func reluInto[T float](y, x []T) {
	if hasAVX {
		if yf, ok := any(y).([]float32); ok {
			if n8 := len(yf) &^ 7; n8 > 0 {
				reluAVX(&yf[0], &any(x).([]float32)[:n8][0], n8)
				y, x = y[n8:], x[n8:]
			}
		}
	}
	reluIntoGo(y, x)
}

// reluGradInto sets dx[i] = dy[i] if y[i] > 0, else 0, for i < len(dx).
func reluGradInto[T float](dx, y, dy []T) {
	if hasAVX {
		if df, ok := any(dx).([]float32); ok {
			if n8 := len(df) &^ 7; n8 > 0 {
				reluGradAVX(&df[0], &any(y).([]float32)[:n8][0], &any(dy).([]float32)[:n8][0], n8)
				dx, y, dy = dx[n8:], y[n8:], dy[n8:]
			}
		}
	}
	reluGradIntoGo(dx, y, dy)
}

// selectEqAVX and addWhereAVX are maxPoolGrad3x3's kernels
// (simd_amd64.s), n a multiple of 8.
//
//go:noescape
func selectEqAVX(sel, x, y *float32, n int, k float32)

//go:noescape
func addWhereAVX(dst, v, sel *float32, n int, k float32)

// maxPoolGrad3x3 routes dy to dx for the interior outputs of a stride-1
// 3x3 pad-1 max pool of one H x W float32 plane (flat outputs [i0, i0+n),
// n a multiple of 8, i0 >= W+1, i0+n <= (H-1)*W-1), where sel is scratch
// of length n: each output's gradient goes to the first window element (in
// row-major order) equal to its maximum, or NaN where the maximum is NaN.
// Outputs in the first and last columns are left out (their sel is -1);
// the caller routes them. It reports false (doing nothing) without AVX or
// for float64.
func maxPoolGrad3x3[T float](x, y, dy, dx, sel []T, w, i0, n int) bool {
	if !hasAVX || n <= 0 {
		return false
	}
	xf, ok := any(x).([]float32)
	if !ok {
		return false
	}
	yf, dyf, dxf, sf := any(y).([]float32), any(dy).([]float32), any(dx).([]float32), any(sel).([]float32)[:n]
	for i := range sf {
		sf[i] = -1
	}
	for k := 8; k >= 0; k-- {
		off := (k/3-1)*w + k%3 - 1
		selectEqAVX(&sf[0], &xf[i0+off : i0+off+n][0], &yf[i0 : i0+n][0], n, float32(k))
	}
	for r := (i0 / w) * w; r < i0+n; r += w {
		for _, i := range [2]int{r, r + w - 1} {
			if i >= i0 && i < i0+n {
				sf[i-i0] = -1
			}
		}
	}
	for k := 0; k < 9; k++ {
		off := (k/3-1)*w + k%3 - 1
		addWhereAVX(&dxf[i0+off : i0+off+n][0], &dyf[i0 : i0+n][0], &sf[0], n, float32(k))
	}
	return true
}

// sqAccAVX and subScaledProdAVX are sqAcc's and subScaledProd's float32
// kernels (simd_amd64.s), n a multiple of 8.
//
//go:noescape
func sqAccAVX(s, x *float32, n int)

//go:noescape
func subScaledProdAVX(d, x, r *float32, n int, c float32)

// sqAcc sets s[i] += x[i]*x[i] for i < len(s).
func sqAcc[T float](s, x []T) {
	if hasAVX {
		if sf, ok := any(s).([]float32); ok {
			if n8 := len(sf) &^ 7; n8 > 0 {
				sqAccAVX(&sf[0], &any(x).([]float32)[:n8][0], n8)
				s, x = s[n8:], x[n8:]
			}
		}
	}
	sqAccGo(s, x)
}

// subScaledProd sets d[i] -= (c*x[i])*r[i] for i < len(d).
func subScaledProd[T float](d, x, r []T, c T) {
	if hasAVX {
		if df, ok := any(d).([]float32); ok {
			if n8 := len(df) &^ 7; n8 > 0 {
				subScaledProdAVX(&df[0], &any(x).([]float32)[:n8][0], &any(r).([]float32)[:n8][0], n8, any(c).(float32))
				d, x, r = d[n8:], x[n8:], r[n8:]
			}
		}
	}
	subScaledProdGo(d, x, r, c)
}

// hasAVX2 reports whether max3s2AVX2 can run (VPERMPD is AVX2).
var hasAVX2 = cpu.X86.HasAVX2

// max3s2AVX2 is max3s2's float32 kernel (simd_amd64.s), n a multiple of 8,
// v readable up to v[2n+1].
//
//go:noescape
func max3s2AVX2(dst, v *float32, n int)

// max3s2 sets dst[j] = max(v[2j], v[2j+1], v[2j+2]) (NaN if any is NaN)
// for j < len(dst); v holds at least 2*len(dst)+1 elements.
func max3s2[T float](dst, v []T) {
	if hasAVX2 {
		if d, ok := any(dst).([]float32); ok {
			if n8 := min(len(d), (len(v)-2)/2) &^ 7; n8 > 0 {
				max3s2AVX2(&d[0], &any(v).([]float32)[:2*n8+2][0], n8)
				dst, v = dst[n8:], v[2*n8:]
			}
		}
	}
	max3s2Go(dst, v)
}

// maxPoolGrad3s2 is the max pool gradient of stride2Run's pools (n3 full
// windows per row, at least 8) in float32 with AVX, plane by plane on all
// cores; it reports false (doing nothing) without AVX or for float64.
func maxPoolGrad3s2[T float](f *poolKernel, x, y, dy, dx []T, n3 int) bool {
	xf, ok := any(x).([]float32)
	if !ok || !hasAVX {
		return false
	}
	p := f.p
	hw, ohw := p.H*p.W, p.OutH*p.OutW
	yf, dyf, dxf := any(y).([]float32), any(dy).([]float32), any(dx).([]float32)
	parallelFor(p.N*p.C, hw, func(lo, hi int) {
		sc := scratchFor[float32]()
		pl := 2 * ((p.W + 1) / 2) * p.H
		xph, dph, sel := sc.get(pl), sc.get(pl), sc.get(n3&^7)
		for nc := lo; nc < hi; nc++ {
			maxPoolGrad3s2Plane(f, xf[nc*hw:(nc+1)*hw], yf[nc*ohw:(nc+1)*ohw], dyf[nc*ohw:(nc+1)*ohw],
				dxf[nc*hw:(nc+1)*hw], xph, dph, sel, n3)
		}
		sc.put(sel)
		sc.put(dph)
		sc.put(xph)
	})
	return true
}

// maxPoolGrad3s2Plane is maxPoolGradPlane for stride2Run's pools (3x3/2,
// no top/left padding) in float32 with AVX. x's rows are split into even
// and odd columns (xph: row ih's phase q at (2*ih+q)*pw), so window column
// s of the outputs ow = 0, 1, ... reads the contiguous run phase s&1 from
// index s>>1. For each output row with a full 3-row window, selectEqAVX
// marks each output's first matching window element (visited last to
// first) and addWhereAVX adds dy into the same phase layout of dx (dph);
// the phases are added back into dx at the end. Outputs past the vector
// blocks, in clipped rows, or without a match go through routeMax.
func maxPoolGrad3s2Plane(f *poolKernel, x, y, dy, dx, xph, dph, sel []float32, n3 int) {
	p := f.p
	pw := (p.W + 1) / 2
	n8 := len(sel)
	for ih := 0; ih < p.H; ih++ {
		deinterleave(xph[2*ih*pw:(2*ih+1)*pw], xph[(2*ih+1)*pw:(2*ih+2)*pw], x[ih*p.W:(ih+1)*p.W])
	}
	clear(dph[:2*p.H*pw])
	// route sends one output's gradient to its argMax, in dph's layout.
	route := func(oh, ow int) {
		i := argMax(f, x, y, oh, ow)
		ih, iw := i/p.W, i%p.W
		dph[(2*ih+iw&1)*pw+iw>>1] += dy[oh*p.OutW+ow]
	}
	phase := func(b []float32, ih, s int) []float32 {
		q := (2*ih + s&1) * pw
		return b[q+s>>1 : q+s>>1+n8]
	}
	// phaseAt is window column s of the 8 outputs from ow0.
	phaseAt := func(b []float32, ih, s, ow0 int) []float32 {
		q := (2*ih+s&1)*pw + s>>1 + ow0
		return b[q : q+8]
	}
	for oh := 0; oh < p.OutH; oh++ {
		hs, he := f.h.Start[oh], f.h.End[oh]
		from := 0
		if he-hs == 3 {
			yr, dyr := y[oh*p.OutW:][:n8], dy[oh*p.OutW:][:n8]
			for i := range sel {
				sel[i] = -1
			}
			for k := 8; k >= 0; k-- {
				selectEqAVX(&sel[0], &phase(xph, hs+k/3, k%3)[0], &yr[0], n8, float32(k))
			}
			for k := 0; k < 9; k++ {
				addWhereAVX(&phase(dph, hs+k/3, k%3)[0], &dyr[0], &sel[0], n8, float32(k))
			}
			for ow, k := range sel {
				if k < 0 {
					route(oh, ow)
				}
			}
			from = n8
			if t0 := n3 - 8; t0 > 0 && n3 > n8 {
				// The last full windows: one more block of 8 ending at n3,
				// its outputs below n8 (done above) masked out.
				s8 := sel[:8]
				for i := range s8 {
					s8[i] = -1
				}
				yt, dyt := y[oh*p.OutW+t0:][:8], dy[oh*p.OutW+t0:][:8]
				for k := 8; k >= 0; k-- {
					selectEqAVX(&s8[0], &phaseAt(xph, hs+k/3, k%3, t0)[0], &yt[0], 8, float32(k))
				}
				for i := range n8 - t0 {
					s8[i] = -2
				}
				for k := 0; k < 9; k++ {
					addWhereAVX(&phaseAt(dph, hs+k/3, k%3, t0)[0], &dyt[0], &s8[0], 8, float32(k))
				}
				for i, k := range s8 {
					if k == -1 {
						route(oh, t0+i)
					}
				}
				from = n3
			}
		}
		for ow := from; ow < p.OutW; ow++ {
			route(oh, ow)
		}
	}
	for ih := 0; ih < p.H; ih++ {
		interleave(dx[ih*p.W:(ih+1)*p.W], dph[2*ih*pw:(2*ih+1)*pw], dph[(2*ih+1)*pw:(2*ih+2)*pw])
	}
}

//go:noescape
func deinterleaveAVX2(ev, od, src *float32, n int)

//go:noescape
func interleaveAVX(dst, ev, od *float32, n int)

// deinterleave sets ev[j] = src[2j] and od[j] = src[2j+1] (ev also takes
// the last element of an odd-length src).
func deinterleave(ev, od, src []float32) {
	n := len(src) / 2
	if n8 := n &^ 7; n8 > 0 && hasAVX2 {
		deinterleaveAVX2(&ev[:n8][0], &od[:n8][0], &src[:2*n8][0], n8)
		ev, od, src, n = ev[n8:], od[n8:], src[2*n8:], n-n8
	}
	for j := range n {
		ev[j], od[j] = src[2*j], src[2*j+1]
	}
	if len(src)%2 == 1 {
		ev[n] = src[2*n]
	}
}

// interleave sets dst[2j] = ev[j] and dst[2j+1] = od[j] (ev's last to the
// last element of an odd-length dst).
func interleave(dst, ev, od []float32) {
	n := len(dst) / 2
	if n8 := n &^ 7; n8 > 0 {
		interleaveAVX(&dst[:2*n8][0], &ev[:n8][0], &od[:n8][0], n8)
		ev, od, dst, n = ev[n8:], od[n8:], dst[2*n8:], n-n8
	}
	for j := range n {
		dst[2*j], dst[2*j+1] = ev[j], od[j]
	}
	if len(dst)%2 == 1 {
		dst[2*n] = ev[n]
	}
}

// mulAVX, mulDivAVX and affineAVX are mulInto's, mulDivInto's and
// affine's float32 kernels (simd_amd64.s), n a multiple of 8.
//
//go:noescape
func mulAVX(dst, a, b *float32, n int)

//go:noescape
func mulDivAVX(dst, a, b, c *float32, n int)

//go:noescape
func affineAVX(s *float32, n int, a, k float32)

// mulInto sets dst[i] = a[i]*b[i] for i < len(dst).
func mulInto[T float](dst, a, b []T) {
	if hasAVX {
		if d, ok := any(dst).([]float32); ok {
			if n8 := len(d) &^ 7; n8 > 0 {
				mulAVX(&d[0], &any(a).([]float32)[:n8][0], &any(b).([]float32)[:n8][0], n8)
				dst, a, b = dst[n8:], a[n8:], b[n8:]
			}
		}
	}
	mulIntoGo(dst, a, b)
}

// mulDivInto sets dst[i] = a[i]*b[i]/c[i] for i < len(dst).
func mulDivInto[T float](dst, a, b, c []T) {
	if hasAVX {
		if d, ok := any(dst).([]float32); ok {
			if n8 := len(d) &^ 7; n8 > 0 {
				mulDivAVX(&d[0], &any(a).([]float32)[:n8][0], &any(b).([]float32)[:n8][0], &any(c).([]float32)[:n8][0], n8)
				dst, a, b, c = dst[n8:], a[n8:], b[n8:], c[n8:]
			}
		}
	}
	mulDivIntoGo(dst, a, b, c)
}

// affine sets s[i] = k + a*s[i].
func affine[T float](s []T, a, k T) {
	if hasAVX {
		if sf, ok := any(s).([]float32); ok {
			if n8 := len(sf) &^ 7; n8 > 0 {
				affineAVX(&sf[0], n8, any(a).(float32), any(k).(float32))
				s = s[n8:]
			}
		}
	}
	affineGo(s, a, k)
}

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

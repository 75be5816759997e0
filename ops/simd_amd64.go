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

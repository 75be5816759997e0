package cpu

import "golang.org/x/sys/cpu"

// hasFMA reports whether the AVX2+FMA micro-kernel can run; hasAVX512
// whether the AVX-512 one can (preferred).
var (
	hasFMA    = cpu.X86.HasAVX2 && cpu.X86.HasFMA
	hasAVX512 = cpu.X86.HasAVX512F
)

// kernel6x16 is half of kernelGo in AVX2/FMA assembly (kernel_amd64.s):
// rows 0-5 of a 12x16 tile, twelve 8-float accumulators.
//
//go:noescape
func kernel6x16(kc int, a, b *float32, t *float32)

// kernel12x16AVX512 is kernelGo in AVX-512 assembly: twelve 16-float
// accumulators hold the 12x16 tile.
//
//go:noescape
func kernel12x16AVX512(kc int, a, b *float32, t *[mr * nr]float32)

// kernel12x16AVX512C is kernel12x16AVX512 storing into (or, when
// accumulate, adding to) a full tile of C with row stride ldc instead of t.
//
//go:noescape
func kernel12x16AVX512C(kc int, a, b, c *float32, ldc int, accumulate bool)

// kernelToC computes a full mr x nr tile straight into c (row stride ldc):
// c = tile, or c += tile when accumulate. It reports false, doing nothing,
// when no such kernel exists here (the caller then uses kernel and
// mergeTile).
func kernelToC(kc int, a, b, c []float32, ldc int, accumulate bool) bool {
	if !hasAVX512 || kc <= 0 {
		return false
	}
	_ = a[kc*mr-1]
	_ = b[kc*nr-1]
	_ = c[(mr-1)*ldc+nr-1]
	kernel12x16AVX512C(kc, &a[0], &b[0], &c[0], ldc, accumulate)
	return true
}

// kernel computes one micro-tile (see kernelGo).
func kernel(kc int, a, b []float32, t *[mr * nr]float32) {
	if kc > 0 && (hasAVX512 || hasFMA) {
		_ = a[kc*mr-1]
		_ = b[kc*nr-1]
		if hasAVX512 {
			kernel12x16AVX512(kc, &a[0], &b[0], t)
			return
		}
		kernel6x16(kc, &a[0], &b[0], &t[0])
		kernel6x16(kc, &a[6], &b[0], &t[6*nr])
		return
	}
	kernelGo(kc, a, b, t)
}

// biasReLUAVX is the ReLU case of biasRow in AVX (epilogue_amd64.s) for n a
// multiple of 8.
//
//go:noescape
func biasReLUAVX(x *float32, n int, b float32)

// biasAVX is the bias-only case of biasRow in AVX for n a multiple of 8.
//
//go:noescape
func biasAVX(x *float32, n int, b float32)

// biasRow computes row[i] += b, then max(row[i], 0) (NaN to 0) if relu.
func biasRow(row []float32, b float32, relu bool) {
	if hasAVX {
		n8 := len(row) &^ 7
		if n8 > 0 {
			if relu {
				biasReLUAVX(&row[0], n8, b)
			} else {
				biasAVX(&row[0], n8, b)
			}
		}
		row = row[n8:]
	}
	biasRowGo(row, b, relu)
}

var hasAVX = cpu.X86.HasAVX

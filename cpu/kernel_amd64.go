package cpu

import "golang.org/x/sys/cpu"

// hasFMA reports whether the AVX2+FMA micro-kernel can run.
var hasFMA = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// kernel6x16 is kernelGo in AVX2/FMA assembly (kernel_amd64.s): twelve
// 8-float accumulators hold the 6x16 tile.
//
//go:noescape
func kernel6x16(kc int, a, b *float32, t *[mr * nr]float32)

// kernel computes one micro-tile (see kernelGo).
func kernel(kc int, a, b []float32, t *[mr * nr]float32) {
	if hasFMA && kc > 0 {
		_ = a[kc*mr-1]
		_ = b[kc*nr-1]
		kernel6x16(kc, &a[0], &b[0], t)
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

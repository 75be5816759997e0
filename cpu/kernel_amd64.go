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

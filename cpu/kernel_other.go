//go:build !amd64

package cpu

// hasFMA is false: only amd64 has an assembly micro-kernel.
const hasFMA = false

// kernel computes one micro-tile (see kernelGo).
func kernel(kc int, a, b []float32, t *[mr * nr]float32) { kernelGo(kc, a, b, t) }

//go:build !amd64

package cpu

// hasFMA is false: only amd64 has an assembly micro-kernel.
const hasFMA = false

// kernel computes one micro-tile (see kernelGo).
func kernel(kc int, a, b []float32, t *[mr * nr]float32) { kernelGo(kc, a, b, t) }

// biasRow computes row[i] += b, then max(row[i], 0) (NaN to 0) if relu.
func biasRow(row []float32, b float32, relu bool) { biasRowGo(row, b, relu) }

// kernelToC reports false: there is no kernel writing into C here.
func kernelToC(kc int, a, b, c []float32, ldc int, accumulate bool) bool { return false }

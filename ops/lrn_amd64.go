package ops

import "golang.org/x/sys/cpu"

// hasAVX reports whether powNeg075AVX can run.
var hasAVX = cpu.X86.HasAVX

// powNeg075AVX is powPlane's float32 path for e = -0.75 in AVX
// (lrn_amd64.s), for n a multiple of 8.
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

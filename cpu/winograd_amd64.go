package cpu

// winoInputAVX512 is winoInputGo in AVX-512 assembly (winograd_amd64.s).
// It reads up to 2n+31 floats past p of each row (winoPadW leaves room).
//
//go:noescape
func winoInputAVX512(p *float32, pw int, v *float32, vs int, n int)

// winoOutputAVX512 is winoOutputGo in AVX-512 assembly (relu 0 or 1). It
// reads up to 15 floats past n in every plane of m (planeStride leaves
// room) and writes only nf floats of each output row.
//
//go:noescape
func winoOutputAVX512(m *float32, ms int, n int, nf int, b float32, relu int, out0, out1 *float32)

// winoFilterAVX512 is winoFilterGo in AVX-512 assembly
// (winograd_filter_amd64.s) for n a multiple of 16.
//
//go:noescape
func winoFilterAVX512(w *float32, u *float32, us int, n int)

// winoFilterRow computes the filter transform of n filters (see
// winoFilterGo).
func winoFilterRow(w, u []float32, us, n int) {
	if n16 := n &^ 15; hasAVX512 && n16 > 0 {
		_ = w[9*n16-1]
		_ = u[15*us+n16-1]
		winoFilterAVX512(&w[0], &u[0], us, n16)
		w, u, n = w[9*n16:], u[n16:], n-n16
	}
	winoFilterGo(w, u, us, n)
}

// winoInputRow computes the input transform of n tiles (see winoInputGo).
func winoInputRow(p []float32, pw int, v []float32, vs, n int) {
	if !hasAVX512 || n <= 0 {
		winoInputGo(p, pw, v, vs, n)
		return
	}
	_ = p[3*pw+2*n+31]
	_ = v[15*vs+n-1]
	winoInputAVX512(&p[0], pw, &v[0], vs, n)
}

// winoOutputRow computes the output transform of n tiles (see
// winoOutputGo).
func winoOutputRow(m []float32, ms, n, nf int, b float32, relu bool, out0, out1 []float32) {
	if !hasAVX512 || n <= 0 {
		winoOutputGo(m, ms, n, nf, b, relu, out0, out1)
		return
	}
	_ = m[15*ms+(n+15)&^15-1]
	_ = out0[nf-1]
	_ = out1[nf-1]
	r := 0
	if relu {
		r = 1
	}
	winoOutputAVX512(&m[0], ms, n, nf, b, r, &out0[0], &out1[0])
}

//go:build !amd64

package cpu

// winoInputRow computes the input transform of n tiles (see winoInputGo).
func winoInputRow(p []float32, pw int, v []float32, vs, n int) { winoInputGo(p, pw, v, vs, n) }

// winoOutputRow computes the output transform of n tiles (see
// winoOutputGo).
func winoOutputRow(m []float32, ms, n, nf int, b float32, relu bool, out0, out1 []float32) {
	winoOutputGo(m, ms, n, nf, b, relu, out0, out1)
}

// winoFilterRow computes the filter transform of n filters (see
// winoFilterGo).
func winoFilterRow(w, u []float32, us, n int) { winoFilterGo(w, u, us, n) }

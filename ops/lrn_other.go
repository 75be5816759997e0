//go:build !amd64

package ops

// powNeg075 sets s[i] = s[i]^-0.75 as 1/(√s·√√s) in float32.
func powNeg075(s []float32) { powNeg075Go(s) }

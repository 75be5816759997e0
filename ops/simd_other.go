//go:build !amd64

package ops

// powNeg075 sets s[i] = s[i]^-0.75 as 1/(√s·√√s) in float32.
func powNeg075(s []float32) { powNeg075Go(s) }

// maxInto sets dst[i] = max(a[i], b[i]) (NaN if either is NaN) for
// i < len(dst); a and b are at least as long, and dst may alias them
// element for element.
func maxInto[T float](dst, a, b []T) { maxIntoGo(dst, a, b) }

// reluInto sets y[i] = x[i] if x[i] > 0, else 0, for i < len(y).
func reluInto[T float](y, x []T) { reluIntoGo(y, x) }

// reluGradInto sets dx[i] = dy[i] if y[i] > 0, else 0, for i < len(dx).
func reluGradInto[T float](dx, y, dy []T) { reluGradIntoGo(dx, y, dy) }

// maxPoolGrad3x3 reports false: there are no vector kernels here.
func maxPoolGrad3x3[T float](x, y, dy, dx, sel []T, w, i0, n int) bool { return false }

// sqAcc sets s[i] += x[i]*x[i] for i < len(s).
func sqAcc[T float](s, x []T) { sqAccGo(s, x) }

// subScaledProd sets d[i] -= (c*x[i])*r[i] for i < len(d).
func subScaledProd[T float](d, x, r []T, c T) { subScaledProdGo(d, x, r, c) }

// max3s2 sets dst[j] = max(v[2j], v[2j+1], v[2j+2]) (NaN if any is NaN)
// for j < len(dst); v holds at least 2*len(dst)+1 elements.
func max3s2[T float](dst, v []T) { max3s2Go(dst, v) }

// maxPoolGrad3s2 reports false: there are no vector kernels here.
func maxPoolGrad3s2[T float](f *poolKernel, x, y, dy, dx []T, n3 int) bool { return false }

// mulInto sets dst[i] = a[i]*b[i] for i < len(dst).
func mulInto[T float](dst, a, b []T) { mulIntoGo(dst, a, b) }

// mulDivInto sets dst[i] = a[i]*b[i]/c[i] for i < len(dst).
func mulDivInto[T float](dst, a, b, c []T) { mulDivIntoGo(dst, a, b, c) }

// affine sets s[i] = k + a*s[i].
func affine[T float](s []T, a, k T) { affineGo(s, a, k) }

package cpu

import (
	"fmt"
	"runtime"
	"sync"

	"github.com/goinception/googlenet/internal/par"
)

// Block sizes of the pure-Go GEMM (Goto's algorithm): a kc x nc panel of B
// and an mc x kc block of A are packed into micro-panels of width nr and
// height mr, and the micro-kernel computes one mr x nr tile of C per call.
const (
	mr = 12  // micro-tile rows (broadcast elements of A)
	nr = 16  // micro-tile columns (one AVX-512 or two AVX vectors of B)
	kc = 256 // depth of a packed block
	mc = 96  // rows of a packed A block (a multiple of mr)
	nc = 1024
)

// checkGemm panics (a programmer error, as in gonum's BLAS) when the
// arguments describe matrices that do not fit in the slices.
func checkGemm[T float32 | float64](ta, tb bool, m, n, k int, a []T, lda int, b []T, ldb int, c []T, ldc int) {
	if msg := gemmArgsErr(ta, tb, m, n, k, a, lda, b, ldb, c, ldc); msg != "" {
		panic(msg)
	}
}

// gemmArgsErr describes what is wrong with GEMM arguments, or returns "".
func gemmArgsErr[T float32 | float64](ta, tb bool, m, n, k int, a []T, lda int, b []T, ldb int, c []T, ldc int) string {
	if m < 0 || n < 0 || k < 0 {
		return fmt.Sprintf("cpu: negative gemm size m=%d n=%d k=%d", m, n, k)
	}
	ar, ac := m, k
	if ta {
		ar, ac = k, m
	}
	br, bc := k, n
	if tb {
		br, bc = n, k
	}
	for _, mat := range []struct {
		name           string
		s              []T
		rows, cols, ld int
	}{{"a", a, ar, ac, lda}, {"b", b, br, bc, ldb}, {"c", c, m, n, ldc}} {
		if mat.ld < max(1, mat.cols) {
			return fmt.Sprintf("cpu: gemm: ld%s=%d < %d", mat.name, mat.ld, max(1, mat.cols))
		}
		if mat.rows > 0 && mat.cols > 0 && len(mat.s) < (mat.rows-1)*mat.ld+mat.cols {
			return fmt.Sprintf("cpu: gemm: %s has %d elements, need %d", mat.name, len(mat.s), (mat.rows-1)*mat.ld+mat.cols)
		}
	}
	return ""
}

// scaleC computes C = beta*C for the m x n matrix C (beta = 0 writes zeros
// without reading C).
func scaleC[T float32 | float64](m, n int, beta T, c []T, ldc int) {
	if beta == 1 {
		return
	}
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}

// packBuf holds one goroutine's packing buffers.
type packBuf struct {
	a [mc * kc]float32
	b [kc * nc]float32
	t [mr * nr]float32
}

// packBufs is a free list of packing buffers (1.1 MB each). Unlike a
// sync.Pool it is not emptied by the garbage collector, so GEMMs never
// allocate after warm-up; it holds at most as many buffers as GEMMs ever
// ran at once.
var packBufs struct {
	mu   sync.Mutex
	free []*packBuf
}

func getPackBuf() *packBuf {
	packBufs.mu.Lock()
	defer packBufs.mu.Unlock()
	if n := len(packBufs.free); n > 0 {
		b := packBufs.free[n-1]
		packBufs.free = packBufs.free[:n-1]
		return b
	}
	return new(packBuf)
}

func putPackBuf(b *packBuf) {
	packBufs.mu.Lock()
	packBufs.free = append(packBufs.free, b)
	packBufs.mu.Unlock()
}

// goSgemm is the serial pure-Go SGEMM: C = alpha*op(A)*op(B) + beta*C,
// row-major. Arguments must have been checked.
func goSgemm(ta, tb bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || alpha == 0 {
		scaleC(m, n, beta, c, ldc)
		return
	}
	buf := getPackBuf()
	defer putPackBuf(buf)
	for jc := 0; jc < n; jc += nc {
		ncb := min(nc, n-jc)
		for pc := 0; pc < k; pc += kc {
			kcb := min(kc, k-pc)
			packB(tb, b, ldb, pc, kcb, jc, ncb, buf.b[:])
			first := pc == 0
			for ic := 0; ic < m; ic += mc {
				mcb := min(mc, m-ic)
				packA(ta, a, lda, ic, mcb, pc, kcb, buf.a[:])
				for jr := 0; jr < ncb; jr += nr {
					bp := buf.b[jr*kcb:]
					nt := min(nr, ncb-jr)
					for ir := 0; ir < mcb; ir += mr {
						mt := min(mr, mcb-ir)
						ct := c[(ic+ir)*ldc+jc+jr:]
						// Full tiles with alpha = 1 and beta 0 or 1 go
						// straight into C where a kernel can do that.
						if mt == mr && nt == nr && alpha == 1 && (!first || beta == 0 || beta == 1) &&
							kernelToC(kcb, buf.a[ir*kcb:], bp, ct, ldc, !first || beta == 1) {
							continue
						}
						kernel(kcb, buf.a[ir*kcb:], bp, &buf.t)
						mergeTile(&buf.t, mt, nt, alpha, beta, first, ct, ldc)
					}
				}
			}
		}
	}
}

// mergeTile adds alpha*t into the mt x nt corner of C at c; on the first
// depth block it also applies beta (beta = 0 does not read C).
func mergeTile(t *[mr * nr]float32, mt, nt int, alpha, beta float32, first bool, c []float32, ldc int) {
	for i := 0; i < mt; i++ {
		row := c[i*ldc : i*ldc+nt]
		tr := t[i*nr : i*nr+nt]
		switch {
		case (!first || beta == 1) && alpha == 1:
			for j, v := range tr {
				row[j] += v
			}
		case !first || beta == 1:
			for j, v := range tr {
				row[j] += alpha * v
			}
		case beta == 0 && alpha == 1:
			copy(row, tr)
		case beta == 0:
			for j, v := range tr {
				row[j] = alpha * v
			}
		default:
			for j, v := range tr {
				row[j] = beta*row[j] + alpha*v
			}
		}
	}
}

// packA copies the mcb x kcb block of op(A) starting at (i0, p0) into
// micro-panels of mr rows: dst[(ir/mr)*mr*kcb + p*mr + i] = op(A)[i0+ir+i,
// p0+p], zero-padded past mcb.
func packA(ta bool, a []float32, lda, i0, mcb, p0, kcb int, dst []float32) {
	for ir := 0; ir < mcb; ir += mr {
		d := dst[ir*kcb : ir*kcb+mr*kcb]
		rows := min(mr, mcb-ir)
		if rows < mr {
			clear(d)
		}
		if ta {
			// op(A) = Aᵀ: row p of the micro-panel is a contiguous piece of
			// row p0+p of A.
			for p := 0; p < kcb; p++ {
				copy(d[p*mr:p*mr+rows], a[(p0+p)*lda+i0+ir:])
			}
			continue
		}
		for i := 0; i < rows; i++ {
			row := i0 + ir + i
			src := a[row*lda+p0 : row*lda+p0+kcb]
			for p, v := range src {
				d[p*mr+i] = v
			}
		}
	}
}

// packB copies the kcb x ncb block of op(B) starting at (p0, j0) into
// micro-panels of nr columns: dst[(jr/nr)*nr*kcb + p*nr + j] = op(B)[p0+p,
// j0+jr+j], zero-padded past ncb.
func packB(tb bool, b []float32, ldb, p0, kcb, j0, ncb int, dst []float32) {
	for jr := 0; jr < ncb; jr += nr {
		d := dst[jr*kcb : jr*kcb+nr*kcb]
		cols := min(nr, ncb-jr)
		if !tb {
			for p := 0; p < kcb; p++ {
				src := b[(p0+p)*ldb+j0+jr:][:cols]
				dp := d[p*nr : p*nr+nr]
				copy(dp, src)
				if cols < nr {
					clear(dp[cols:])
				}
			}
			continue
		}
		if cols < nr {
			clear(d)
			for j := 0; j < cols; j++ {
				src := b[(j0+jr+j)*ldb+p0:][:kcb]
				for p, v := range src {
					d[p*nr+j] = v
				}
			}
			continue
		}
		// Full panel: read the nr rows of B side by side, write d in order.
		var rows [nr][]float32
		for j := range rows {
			rows[j] = b[(j0+jr+j)*ldb+p0:][:kcb]
		}
		for p := 0; p < kcb; p++ {
			dp := (*[nr]float32)(d[p*nr:])
			for j := range dp {
				dp[j] = rows[j][p]
			}
		}
	}
}

// kernelGo is the portable micro-kernel: t[i*nr+j] = sum_p a[p*mr+i] *
// b[p*nr+j] for p < kc (a and b are packed micro-panels). It works on 2x4
// sub-tiles so that the eight sums stay in registers.
func kernelGo(kc int, a, b []float32, t *[mr * nr]float32) {
	a = a[:kc*mr]
	b = b[:kc*nr]
	for i := 0; i < mr; i += 2 {
		for j := 0; j < nr; j += 4 {
			var c00, c01, c02, c03, c10, c11, c12, c13 float32
			for p := 0; p < kc; p++ {
				ap := a[p*mr+i : p*mr+i+2 : p*mr+i+2]
				bp := b[p*nr+j : p*nr+j+4 : p*nr+j+4]
				a0, a1 := ap[0], ap[1]
				b0, b1, b2, b3 := bp[0], bp[1], bp[2], bp[3]
				c00 += a0 * b0
				c01 += a0 * b1
				c02 += a0 * b2
				c03 += a0 * b3
				c10 += a1 * b0
				c11 += a1 * b1
				c12 += a1 * b2
				c13 += a1 * b3
			}
			r0 := t[i*nr+j : i*nr+j+4 : i*nr+j+4]
			r1 := t[(i+1)*nr+j : (i+1)*nr+j+4 : (i+1)*nr+j+4]
			r0[0], r0[1], r0[2], r0[3] = c00, c01, c02, c03
			r1[0], r1[1], r1[2], r1[3] = c10, c11, c12, c13
		}
	}
}

// minParallelFlops is the work below which a GEMM runs on one goroutine.
const minParallelFlops = 1 << 20

// splitGemm runs a GEMM as up to workers independent sub-GEMMs over
// disjoint row blocks (m >= n) or column blocks of C, each computed by f
// (a serial GEMM). The blocks are multiples of mr or nr rows or columns.
func splitGemm[T float32 | float64](workers int, ta, tb bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int,
	f func(ta, tb bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int)) {
	if workers <= 1 || 2*m*n*k < minParallelFlops || m == 0 || n == 0 {
		f(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	byRows := m >= n
	size, unit := n, nr
	if byRows {
		size, unit = m, mr
	}
	chunk := (size + workers - 1) / workers
	chunk = (chunk + unit - 1) / unit * unit
	par.Do((size+chunk-1)/chunk, func(i int) {
		lo := i * chunk
		hi := min(size, lo+chunk)
		var sa, sb, sc []T
		var sm, sn int
		if byRows {
			sm, sn = hi-lo, n
			sb = b
			sc = c[lo*ldc:]
			if ta {
				sa = a[lo:]
			} else {
				sa = a[lo*lda:]
			}
		} else {
			sm, sn = m, hi-lo
			sa = a
			sc = c[lo:]
			if tb {
				sb = b[lo*ldb:]
			} else {
				sb = b[lo:]
			}
		}
		f(ta, tb, sm, sn, k, alpha, sa, lda, sb, ldb, beta, sc, ldc)
	})
}

// defaultWorkers is the number of goroutines work is split over.
func defaultWorkers() int { return runtime.GOMAXPROCS(0) }

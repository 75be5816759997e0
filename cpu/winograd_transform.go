package cpu

// The three transforms of Winograd's F(2x2,3x3), with the matrices of Lavin
// and Gray (2016):
//
//	     | 1    0    0  |        | 1  0 -1  0 |
//	G =  | 1/2  1/2  1/2|   Bᵀ = | 0  1  1  0 |   Aᵀ = | 1  1  1  0 |
//	     | 1/2 -1/2  1/2|        | 0 -1  1  0 |        | 0  1 -1 -1 |
//	     | 0    0    1  |        | 0  1  0 -1 |
//
// Transformed values are indexed ξ = 4*row + column.

// winoFilter writes U = G g Gᵀ of the filters w[k, c, 3, 3] for output
// channels k0..k1 into u[ξ][K][C]. The sums are taken in float64 and
// rounded once.
func winoFilter(w, u []float32, nk, nc, k0, k1 int) {
	kc := nk * nc
	for k := k0; k < k1; k++ {
		for c := 0; c < nc; c++ {
			f := w[(k*nc+c)*9 : (k*nc+c)*9+9 : (k*nc+c)*9+9]
			// a = G g: 4 rows of 3.
			var a [4][3]float64
			for s := 0; s < 3; s++ {
				g0, g1, g2 := float64(f[s]), float64(f[3+s]), float64(f[6+s])
				a[0][s] = g0
				a[1][s] = 0.5 * (g0 + g1 + g2)
				a[2][s] = 0.5 * (g0 - g1 + g2)
				a[3][s] = g2
			}
			// U = a Gᵀ: each row of a times Gᵀ.
			o := k*nc + c
			for r := 0; r < 4; r++ {
				g0, g1, g2 := a[r][0], a[r][1], a[r][2]
				u[(4*r)*kc+o] = float32(g0)
				u[(4*r+1)*kc+o] = float32(0.5 * (g0 + g1 + g2))
				u[(4*r+2)*kc+o] = float32(0.5 * (g0 - g1 + g2))
				u[(4*r+3)*kc+o] = float32(g2)
			}
		}
	}
}

// winoInput writes V = Bᵀ d B of the 4x4 input tiles d of channels c0..c1
// for the tiles of segs into v[ξ][C][ld] (column seg.col + j - seg.j0).
// The tile of output tile (i, j) starts at input row 2i-1, column 2j-1;
// rows and columns outside the image read as zero. pad holds 4 rows of
// W+3 floats: the tile rows with their zero borders.
func winoInput(wq *wino, x, v []float32, ld int, segs []winoSegment, c0, c1 int, pad []float32) {
	h, w, nc := wq.H, wq.W, wq.C
	pw := w + 3
	cs := nc * ld // distance between ξ planes
	for _, sg := range segs {
		for c := c0; c < c1; c++ {
			xc := x[((sg.n*nc)+c)*h*w:][:h*w]
			// Padded rows: p[r][1+iw] = x[c, 2i-1+r, iw], zero elsewhere.
			for r := 0; r < 4; r++ {
				p := pad[r*pw : (r+1)*pw]
				ih := 2*sg.i - 1 + r
				if ih < 0 || ih >= h {
					clear(p)
					continue
				}
				p[0] = 0
				copy(p[1:1+w], xc[ih*w:(ih+1)*w])
				p[w+1], p[w+2] = 0, 0
			}
			p0, p1, p2, p3 := pad[:pw], pad[pw:2*pw], pad[2*pw:3*pw], pad[3*pw:4*pw]
			base := c*ld + sg.col - sg.j0
			for j := sg.j0; j < sg.j1; j++ {
				o := 2 * j
				q0, q1, q2, q3 := p0[o:o+4:o+4], p1[o:o+4:o+4], p2[o:o+4:o+4], p3[o:o+4:o+4]
				// e = Bᵀ d, column by column.
				e00, e01, e02, e03 := q0[0]-q2[0], q0[1]-q2[1], q0[2]-q2[2], q0[3]-q2[3]
				e10, e11, e12, e13 := q1[0]+q2[0], q1[1]+q2[1], q1[2]+q2[2], q1[3]+q2[3]
				e20, e21, e22, e23 := q2[0]-q1[0], q2[1]-q1[1], q2[2]-q1[2], q2[3]-q1[3]
				e30, e31, e32, e33 := q1[0]-q3[0], q1[1]-q3[1], q1[2]-q3[2], q1[3]-q3[3]
				// V = e B, row by row.
				vv := v[base+j:]
				vv[0*cs], vv[1*cs], vv[2*cs], vv[3*cs] = e00-e02, e01+e02, e02-e01, e01-e03
				vv[4*cs], vv[5*cs], vv[6*cs], vv[7*cs] = e10-e12, e11+e12, e12-e11, e11-e13
				vv[8*cs], vv[9*cs], vv[10*cs], vv[11*cs] = e20-e22, e21+e22, e22-e21, e21-e23
				vv[12*cs], vv[13*cs], vv[14*cs], vv[15*cs] = e30-e32, e31+e32, e32-e31, e31-e33
			}
		}
	}
}

// winoOutput computes the output tiles Aᵀ m A of the products m[ξ][K][ld]
// for output channels k0..k1 and the tiles of segs, adds b[k] (b may be
// nil), clamps at zero if relu (NaN to 0, as biasRow) and writes the valid
// outputs into y[N, K, OutH, OutW].
func winoOutput(wq *wino, m []float32, ld int, segs []winoSegment, b, y []float32, k0, k1 int, relu bool) {
	oh, ow, nk := wq.OutH, wq.OutW, wq.K
	ms := nk * ld
	for k := k0; k < k1; k++ {
		var bk float32
		if b != nil {
			bk = b[k]
		}
		for _, sg := range segs {
			yk := y[(sg.n*nk+k)*oh*ow:][:oh*ow]
			r0 := 2 * sg.i
			two := r0+1 < oh // the tile's second row exists
			base := k*ld + sg.col - sg.j0
			for j := sg.j0; j < sg.j1; j++ {
				mm := m[base+j:]
				m00, m01, m02, m03 := mm[0*ms], mm[1*ms], mm[2*ms], mm[3*ms]
				m10, m11, m12, m13 := mm[4*ms], mm[5*ms], mm[6*ms], mm[7*ms]
				m20, m21, m22, m23 := mm[8*ms], mm[9*ms], mm[10*ms], mm[11*ms]
				m30, m31, m32, m33 := mm[12*ms], mm[13*ms], mm[14*ms], mm[15*ms]
				// a = Aᵀ m: two rows of 4.
				a00, a01, a02, a03 := m00+m10+m20, m01+m11+m21, m02+m12+m22, m03+m13+m23
				a10, a11, a12, a13 := m10-m20-m30, m11-m21-m31, m12-m22-m32, m13-m23-m33
				// Y = a A, plus the bias.
				y00 := a00 + a01 + a02 + bk
				y01 := a01 - a02 - a03 + bk
				y10 := a10 + a11 + a12 + bk
				y11 := a11 - a12 - a13 + bk
				if relu {
					y00, y01, y10, y11 = reluNaN0(y00), reluNaN0(y01), reluNaN0(y10), reluNaN0(y11)
				}
				c0 := 2 * j
				if c0+1 < ow {
					row := yk[r0*ow+c0 : r0*ow+c0+2 : r0*ow+c0+2]
					row[0], row[1] = y00, y01
					if two {
						row := yk[(r0+1)*ow+c0 : (r0+1)*ow+c0+2 : (r0+1)*ow+c0+2]
						row[0], row[1] = y10, y11
					}
					continue
				}
				yk[r0*ow+c0] = y00
				if two {
					yk[(r0+1)*ow+c0] = y10
				}
			}
		}
	}
}

// reluNaN0 is max(v, 0) with NaN mapped to 0, as the reference engine;
// branch-free, as biasRowGo.
func reluNaN0(v float32) float32 {
	r := max(v, 0)
	if r != r {
		r = 0
	}
	return r
}

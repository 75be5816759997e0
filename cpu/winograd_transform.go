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

// winoFilterGo writes U = G g Gᵀ of n filters g = w[9f:9f+9] (3x3, row
// major) into u[ξ*us + f].
func winoFilterGo(w, u []float32, us, n int) {
	for f := 0; f < n; f++ {
		g := w[9*f : 9*f+9 : 9*f+9]
		// a = G g, column by column.
		var a [4][3]float32
		for s := 0; s < 3; s++ {
			a[0][s], a[1][s], a[2][s], a[3][s] = winoG(g[s], g[3+s], g[6+s])
		}
		// U = a Gᵀ, row by row.
		uu := u[f:]
		for i := 0; i < 4; i++ {
			uu[(4*i)*us], uu[(4*i+1)*us], uu[(4*i+2)*us], uu[(4*i+3)*us] = winoG(a[i][0], a[i][1], a[i][2])
		}
	}
}

// winoG returns G (g0, g1, g2): g0, (g0+g2+g1)/2, (g0+g2-g1)/2, g2.
func winoG(g0, g1, g2 float32) (float32, float32, float32, float32) {
	t := g0 + g2
	return g0, (t + g1) * 0.5, (t - g1) * 0.5, g2
}

// winoPadW is the row length of the padded input rows winoInput builds:
// the row of W values between one zero on the left and two on the right,
// and zeros the vector kernel may read past the last tile.
func winoPadW(w int) int { return w + 35 }

// winoInput writes V = Bᵀ d B of the 4x4 input tiles d of channels c0..c1
// for the tiles of segs into v[ξ][C][ld] (planes wq.vs apart; tile j of a
// segment in column seg.col + j - seg.j0). The tile of output tile (i, j)
// starts at input row 2i-1, column 2j-1; rows and columns outside the
// image read as zero. pad holds 4 rows of winoPadW(W) floats, zero beyond
// column W+2 (winoInput writes only columns 0..W+2).
func winoInput(wq *wino, x, v []float32, ld int, segs []winoSegment, c0, c1 int, pad []float32) {
	h, w, nc := wq.H, wq.W, wq.C
	pw := winoPadW(w)
	for c := c0; c < c1; c++ {
		for _, sg := range segs {
			xc := x[((sg.n*nc)+c)*h*w:][:h*w]
			// Padded rows: pad[r*pw + 1+iw] = x[c, 2i-1+r, iw], zero elsewhere.
			for r := 0; r < 4; r++ {
				p := pad[r*pw : r*pw+w+3]
				ih := 2*sg.i - 1 + r
				if ih < 0 || ih >= h {
					clear(p)
					continue
				}
				p[0] = 0
				copy(p[1:1+w], xc[ih*w:(ih+1)*w])
				p[w+1], p[w+2] = 0, 0
			}
			winoInputRow(pad[2*sg.j0:], pw, v[c*ld+sg.col:], wq.vs, sg.j1-sg.j0)
		}
	}
}

// winoInputGo computes V = Bᵀ d B for n tiles side by side: tile t's input
// is d[r][s] = p[r*pw + 2t + s] (r, s < 4), and V[ξ] goes to v[ξ*vs + t].
func winoInputGo(p []float32, pw int, v []float32, vs, n int) {
	p0, p1, p2, p3 := p[:], p[pw:], p[2*pw:], p[3*pw:]
	for t := 0; t < n; t++ {
		o := 2 * t
		q0, q1, q2, q3 := p0[o:o+4:o+4], p1[o:o+4:o+4], p2[o:o+4:o+4], p3[o:o+4:o+4]
		// e = Bᵀ d, column by column.
		e00, e01, e02, e03 := q0[0]-q2[0], q0[1]-q2[1], q0[2]-q2[2], q0[3]-q2[3]
		e10, e11, e12, e13 := q1[0]+q2[0], q1[1]+q2[1], q1[2]+q2[2], q1[3]+q2[3]
		e20, e21, e22, e23 := q2[0]-q1[0], q2[1]-q1[1], q2[2]-q1[2], q2[3]-q1[3]
		e30, e31, e32, e33 := q1[0]-q3[0], q1[1]-q3[1], q1[2]-q3[2], q1[3]-q3[3]
		// V = e B, row by row.
		vv := v[t:]
		vv[0*vs], vv[1*vs], vv[2*vs], vv[3*vs] = e00-e02, e01+e02, e02-e01, e01-e03
		vv[4*vs], vv[5*vs], vv[6*vs], vv[7*vs] = e10-e12, e11+e12, e12-e11, e11-e13
		vv[8*vs], vv[9*vs], vv[10*vs], vv[11*vs] = e20-e22, e21+e22, e22-e21, e21-e23
		vv[12*vs], vv[13*vs], vv[14*vs], vv[15*vs] = e30-e32, e31+e32, e32-e31, e31-e33
	}
}

// winoOutput computes the output tiles Aᵀ m A of the products m[ξ][K][ld]
// (planes wq.ms apart) for output channels k0..k1 and the tiles of segs,
// adds b[k] (b may be nil), clamps at zero if relu (NaN to 0, as biasRow)
// and writes the valid outputs into y[N, K, OutH, OutW]. scratch (2*tw
// floats) takes the second rows of tiles below an odd output's last row.
func winoOutput(wq *wino, m []float32, ld int, segs []winoSegment, b, y []float32, k0, k1 int, relu bool, scratch []float32) {
	oh, ow, nk := wq.OutH, wq.OutW, wq.K
	for k := k0; k < k1; k++ {
		var bk float32
		if b != nil {
			bk = b[k]
		}
		for _, sg := range segs {
			yk := y[(sg.n*nk+k)*oh*ow:][:oh*ow]
			r0, c0 := 2*sg.i, 2*sg.j0
			nf := min(2*(sg.j1-sg.j0), ow-c0)
			out0, out1 := yk[r0*ow+c0:][:nf], scratch[:nf]
			if r0+1 < oh {
				out1 = yk[(r0+1)*ow+c0:][:nf]
			}
			winoOutputRow(m[k*ld+sg.col:], wq.ms, sg.j1-sg.j0, nf, bk, relu, out0, out1)
		}
	}
}

// winoOutputGo computes Y = Aᵀ m A + b for n tiles side by side, where
// tile t's m[ξ] is m[ξ*ms + t], then max(Y, 0) (NaN to 0) if relu, and
// writes its first row to out0[2t], out0[2t+1] and its second to out1,
// only the first nf (2n or 2n-1) floats of each.
func winoOutputGo(m []float32, ms, n, nf int, b float32, relu bool, out0, out1 []float32) {
	out0, out1 = out0[:nf], out1[:nf]
	for t := 0; t < n; t++ {
		mm := m[t:]
		m00, m01, m02, m03 := mm[0*ms], mm[1*ms], mm[2*ms], mm[3*ms]
		m10, m11, m12, m13 := mm[4*ms], mm[5*ms], mm[6*ms], mm[7*ms]
		m20, m21, m22, m23 := mm[8*ms], mm[9*ms], mm[10*ms], mm[11*ms]
		m30, m31, m32, m33 := mm[12*ms], mm[13*ms], mm[14*ms], mm[15*ms]
		// a = Aᵀ m: two rows of 4.
		a00, a01, a02, a03 := m00+m10+m20, m01+m11+m21, m02+m12+m22, m03+m13+m23
		a10, a11, a12, a13 := m10-m20-m30, m11-m21-m31, m12-m22-m32, m13-m23-m33
		// Y = a A, plus the bias.
		y00 := a00 + a01 + a02 + b
		y01 := a01 - a02 - a03 + b
		y10 := a10 + a11 + a12 + b
		y11 := a11 - a12 - a13 + b
		if relu {
			y00, y01, y10, y11 = reluNaN0(y00), reluNaN0(y01), reluNaN0(y10), reluNaN0(y11)
		}
		c := 2 * t
		out0[c], out1[c] = y00, y10
		if c+1 < nf {
			out0[c+1], out1[c+1] = y01, y11
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

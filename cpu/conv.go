package cpu

import "github.com/goinception/googlenet/ops"

// geom caches the derived sizes of a convolution.
type geom struct {
	ops.ConvGeom
	sh, sw    int
	chw, crs  int // input image size, GEMM depth C*R*S
	ohw, kohw int // output plane size, output image size
	pointwise bool
	tileRows  int // output rows per im2col tile (OutH: one tile)
}

func newGeom(g ops.ConvGeom) geom {
	q := geom{ConvGeom: g, sh: max(g.StrideH, 1), sw: max(g.StrideW, 1)}
	q.chw = g.C * g.H * g.W
	q.crs = g.C * g.R * g.S
	q.ohw = g.OutH * g.OutW
	q.kohw = g.K * q.ohw
	q.pointwise = g.R == 1 && g.S == 1 && q.sh == 1 && q.sw == 1 &&
		g.PadTop == 0 && g.PadLeft == 0 && g.OutH == g.H && g.OutW == g.W
	q.tileRows = g.OutH
	if tiles := (q.crs*q.ohw + tileElems - 1) / tileElems; tiles > 1 && !q.pointwise {
		q.tileRows = (g.OutH + tiles - 1) / tiles
	}
	return q
}

// tileElems bounds the im2col buffer of one tile (1 MiB of float32). An
// image whose unrolled columns are larger (GoogLeNet's conv1: 7.4 MB, conv2:
// 7.2 MB per image) is unrolled and multiplied a block of output rows at a
// time, so the columns the GEMM reads are still in cache from im2col.
// Measured on conv1 and conv2/3x3 at batch 8 (best of 9, 2 cores): 16.5 ->
// 14.3 ms and 23.1 -> 19.4 ms; tiles of 256 KiB to 2 MiB were alike. A
// variable so that tests can force many small tiles.
var tileElems = 1 << 18

// tile is a block of output rows [oh0, oh1) of one image: cols = (oh1 -
// oh0) * OutW output positions starting at off = oh0 * OutW.
type tile struct{ oh0, oh1, off, cols int }

// tiles returns the row blocks of q's output, in order.
func (q geom) tiles() []tile {
	ts := make([]tile, 0, (q.OutH+q.tileRows-1)/q.tileRows)
	for oh0 := 0; oh0 < q.OutH; oh0 += q.tileRows {
		oh1 := min(q.OutH, oh0+q.tileRows)
		ts = append(ts, tile{oh0, oh1, oh0 * q.OutW, (oh1 - oh0) * q.OutW})
	}
	return ts
}

// colLen is the im2col buffer length one tile needs.
func (q geom) colLen() int { return q.crs * q.tileRows * q.OutW }

// ConvForward computes y = conv(x, w) + b, then max(0, y) if relu (see
// ops.Engine). A 1x1 stride-1 unpadded convolution is the GEMM
// Y_n[K,HW] = W[K,C] · X_n[C,HW] on the NCHW image itself; other kernels
// unroll each image with im2col into a reused buffer first. Bias and ReLU
// are applied in one pass over each output tile. Images are split over the
// workers; with fewer images than workers, each image's GEMM is split.
func (e *Engine) ConvForward(g ops.ConvGeom, x, w, b, y []float32, relu bool) error {
	e.convForward(g, x, w, b, y, relu)
	return nil
}

func (e *Engine) convForward(g ops.ConvGeom, x, w, b, y []float32, relu bool) {
	q := newGeom(g)
	checkConv(g, size{"x", len(x), g.N * q.chw}, size{"w", len(w), g.K * q.crs}, size{"y", len(y), g.N * q.kohw})
	if b != nil {
		checkConv(g, size{"b", len(b), g.K})
	}
	if e.winograd && g.N > 0 && winoApplies(q) {
		e.winogradForward(q, x, w, b, y, relu)
		return
	}
	workers := e.nworkers()
	if g.N >= workers {
		eachUnit(g.N, workers, func(_ int, next func() int) {
			if q.pointwise {
				for n := next(); n >= 0; n = next() {
					yn := y[n*q.kohw : (n+1)*q.kohw]
					e.sgemm(false, false, g.K, q.ohw, q.crs, 1, w, q.crs, x[n*q.chw:], q.ohw, 0, yn, q.ohw)
					epilogue(yn, b, q.ohw, 0, g.K, 0, q.ohw, relu)
				}
				return
			}
			col := e.pool.get(q.colLen())
			defer e.pool.put(col)
			ph := e.phaseBuf(q)
			defer e.putPhases(ph)
			ts := q.tiles()
			for n := next(); n >= 0; n = next() {
				xn := x[n*q.chw : (n+1)*q.chw]
				yn := y[n*q.kohw : (n+1)*q.kohw]
				phases(q, xn, ph, 0, g.C)
				for _, t := range ts {
					im2col(q, xn, ph, col, 0, g.C, t.oh0, t.oh1)
					e.sgemm(false, false, g.K, t.cols, q.crs, 1, w, q.crs, col, t.cols, 0, yn[t.off:], q.ohw)
					epilogue(yn, b, q.ohw, 0, g.K, t.off, t.off+t.cols, relu)
				}
			}
		})
		return
	}
	// Fewer images than workers: split each image's work.
	for n := 0; n < g.N; n++ {
		e.convForwardImage(q, workers, x[n*q.chw:(n+1)*q.chw], w, b, y[n*q.kohw:(n+1)*q.kohw], relu)
	}
}

// convForwardImage computes one image's convolution on all workers (the
// batch has fewer images than workers). An image unrolled in row tiles
// (conv1 and conv2/3x3, whose whole unrolled image is 7.4 MB) gives each
// worker whole tiles: it unrolls only its own tiles, whose columns are
// still in cache when its GEMM reads them. Otherwise the GEMM is split by
// output channels. Either way every output element is computed by the
// same GEMM shape as in a larger batch, so an image gets bit for bit the
// result it gets in any batch (package serve relies on it).
func (e *Engine) convForwardImage(q geom, workers int, xn, w, b, yn []float32, relu bool) {
	g := q.ConvGeom
	if ts := q.tiles(); len(ts) >= workers && !q.pointwise {
		ph := e.phaseBuf(q)
		defer e.putPhases(ph)
		if ph != nil {
			parallelRanges(g.C, workers, func(_, lo, hi int) { phases(q, xn, ph, lo, hi) })
		}
		eachUnit(len(ts), workers, func(_ int, next func() int) {
			col := e.pool.get(q.colLen())
			defer e.pool.put(col)
			for i := next(); i >= 0; i = next() {
				t := ts[i]
				im2col(q, xn, ph, col, 0, g.C, t.oh0, t.oh1)
				e.sgemm(false, false, g.K, t.cols, q.crs, 1, w, q.crs, col, t.cols, 0, yn[t.off:], q.ohw)
				epilogue(yn, b, q.ohw, 0, g.K, t.off, t.off+t.cols, relu)
			}
		})
		return
	}
	src := xn
	if !q.pointwise {
		col := e.pool.get(q.crs * q.ohw)
		defer e.pool.put(col)
		ph := e.phaseBuf(q)
		defer e.putPhases(ph)
		parallelRanges(g.C, workers, func(_, lo, hi int) {
			phases(q, xn, ph, lo, hi)
			im2col(q, xn, ph, col, lo, hi, 0, g.OutH)
		})
		src = col
	}
	// Rows of Y (output channels) in blocks of mr, bias and ReLU fused per
	// block while it is still in cache.
	blocks := (g.K + mr - 1) / mr
	parallelRanges(blocks, workers, func(_, lo, hi int) {
		k0, k1 := lo*mr, min(g.K, hi*mr)
		e.sgemm(false, false, k1-k0, q.ohw, q.crs, 1, w[k0*q.crs:], q.crs, src, q.ohw, 0, yn[k0*q.ohw:], q.ohw)
		epilogue(yn, b, q.ohw, k0, k1, 0, q.ohw, relu)
	})
}

// epilogue adds b[k] (when b is non-nil) to columns c0..c1 of rows k0..k1
// of y[K,ohw] and clamps at zero when relu, in one pass.
func epilogue(y, b []float32, ohw, k0, k1, c0, c1 int, relu bool) {
	if b == nil && !relu {
		return
	}
	for k := k0; k < k1; k++ {
		var bk float32
		if b != nil {
			bk = b[k]
		}
		biasRow(y[k*ohw+c0:k*ohw+c1], bk, relu)
	}
}

// biasRowGo is the portable biasRow: row[i] += b, then max(row[i], 0) if
// relu, with NaN mapped to 0 like the reference engine. It is branch-free:
// signs are random, so "if v < 0" mispredicts half the time (7x slower,
// measured); the NaN test is never taken in practice.
func biasRowGo(row []float32, b float32, relu bool) {
	if !relu {
		for i := range row {
			row[i] += b
		}
		return
	}
	for i, v := range row {
		r := max(v+b, 0)
		if r != r {
			r = 0
		}
		row[i] = r
	}
}

// ConvBackwardData computes dx from dy and w (see ops.Engine): the GEMM
// dcol[CRS,OHW] = Wᵀ · dY_n, written straight into dx for 1x1 stride-1
// convolutions, otherwise into a reused buffer folded back by col2im.
func (e *Engine) ConvBackwardData(g ops.ConvGeom, w, dy, dx []float32) error {
	e.convBackwardData(g, w, dy, dx)
	return nil
}

func (e *Engine) convBackwardData(g ops.ConvGeom, w, dy, dx []float32) {
	q := newGeom(g)
	checkConv(g, size{"w", len(w), g.K * q.crs}, size{"dy", len(dy), g.N * q.kohw}, size{"dx", len(dx), g.N * q.chw})
	if e.winograd && g.N > 0 && winoAppliesBack(q) {
		e.winogradBackwardData(q, w, dy, dx)
		return
	}
	workers := e.nworkers()
	if g.N >= workers {
		eachUnit(g.N, workers, func(_ int, next func() int) {
			if q.pointwise {
				for n := next(); n >= 0; n = next() {
					e.sgemm(true, false, q.crs, q.ohw, g.K, 1, w, q.crs, dy[n*q.kohw:], q.ohw, 0, dx[n*q.chw:], q.ohw)
				}
				return
			}
			col := e.pool.get(q.colLen())
			defer e.pool.put(col)
			ts := q.tiles()
			for n := next(); n >= 0; n = next() {
				dyn := dy[n*q.kohw : (n+1)*q.kohw]
				dxn := dx[n*q.chw : (n+1)*q.chw]
				clear(dxn)
				for _, t := range ts {
					e.sgemm(true, false, q.crs, t.cols, g.K, 1, w, q.crs, dyn[t.off:], q.ohw, 0, col, t.cols)
					col2im(q, col, dxn, 0, g.C, t.oh0, t.oh1)
				}
			}
		})
		return
	}
	var col []float32
	if !q.pointwise {
		col = e.pool.get(q.crs * q.ohw)
		defer e.pool.put(col)
	}
	for n := 0; n < g.N; n++ {
		dyn := dy[n*q.kohw : (n+1)*q.kohw]
		dxn := dx[n*q.chw : (n+1)*q.chw]
		dst := dxn
		if !q.pointwise {
			dst = col
		}
		// Rows of dcol belong to whole input channels (R*S rows each), so
		// each worker's block can be folded back without the others.
		parallelRanges(g.C, workers, func(_, lo, hi int) {
			rs := g.R * g.S
			e.sgemm(true, false, (hi-lo)*rs, q.ohw, g.K, 1, w[lo*rs:], q.crs, dyn, q.ohw, 0, dst[lo*rs*q.ohw:], q.ohw)
			if !q.pointwise {
				clear(dxn[lo*g.H*g.W : hi*g.H*g.W])
				col2im(q, col, dxn, lo, hi, 0, g.OutH)
			}
		})
	}
}

// ConvBackwardFilter computes dw = Σ_n dY_n · col(X_n)ᵀ and db = Σ dY (db
// may be nil; see ops.Engine). With at least as many images as workers,
// each worker accumulates its images into its own partial dw through the
// GEMM's beta = 1, and the partials are summed; otherwise each image's GEMM
// is split over the output channels.
func (e *Engine) ConvBackwardFilter(g ops.ConvGeom, x, dy, dw, db []float32) error {
	e.convBackwardFilter(g, x, dy, dw, db)
	return nil
}

func (e *Engine) convBackwardFilter(g ops.ConvGeom, x, dy, dw, db []float32) {
	q := newGeom(g)
	checkConv(g, size{"x", len(x), g.N * q.chw}, size{"dy", len(dy), g.N * q.kohw}, size{"dw", len(dw), g.K * q.crs})
	if db != nil {
		checkConv(g, size{"db", len(db), g.K})
	}
	kcrs := g.K * q.crs
	dw = dw[:kcrs]
	workers := e.nworkers()
	if g.N == 0 {
		clear(dw)
	} else if g.N > 1 && q.ohw < smallPlane {
		e.filterBatched(q, x, dy, dw, workers)
	} else if g.N >= workers {
		// A static split: which images a partial sums must not depend on
		// timing, or dw would differ in the last bits between runs.
		partial := make([][]float32, min(workers, g.N))
		parallelRanges(g.N, workers, func(wk, lo, hi int) {
			acc := dw
			if wk > 0 {
				acc = e.pool.get(kcrs)
			}
			partial[wk] = acc
			if q.pointwise {
				for n := lo; n < hi; n++ {
					var beta float32
					if n > lo {
						beta = 1
					}
					e.sgemm(false, true, g.K, q.crs, q.ohw, 1, dy[n*q.kohw:], q.ohw, x[n*q.chw:], q.ohw, beta, acc, q.crs)
				}
				return
			}
			col := e.pool.get(q.colLen())
			defer e.pool.put(col)
			ph := e.phaseBuf(q)
			defer e.putPhases(ph)
			ts := q.tiles()
			for n := lo; n < hi; n++ {
				xn := x[n*q.chw : (n+1)*q.chw]
				dyn := dy[n*q.kohw : (n+1)*q.kohw]
				phases(q, xn, ph, 0, g.C)
				for i, t := range ts {
					im2col(q, xn, ph, col, 0, g.C, t.oh0, t.oh1)
					var beta float32
					if n > lo || i > 0 {
						beta = 1
					}
					e.sgemm(false, true, g.K, q.crs, t.cols, 1, dyn[t.off:], q.ohw, col, t.cols, beta, acc, q.crs)
				}
			}
		})
		if len(partial) > 1 {
			parallelRanges(kcrs, workers, func(_, lo, hi int) {
				for _, p := range partial[1:] {
					d, s := dw[lo:hi], p[lo:hi]
					for i, v := range s {
						d[i] += v
					}
				}
			})
			for _, p := range partial[1:] {
				e.pool.put(p)
			}
		}
	} else {
		var col []float32
		if !q.pointwise {
			col = e.pool.get(q.crs * q.ohw)
			defer e.pool.put(col)
		}
		ph := e.phaseBuf(q)
		defer e.putPhases(ph)
		blocks := (g.K + mr - 1) / mr
		for n := 0; n < g.N; n++ {
			xn := x[n*q.chw : (n+1)*q.chw]
			dyn := dy[n*q.kohw : (n+1)*q.kohw]
			src := xn
			if !q.pointwise {
				parallelRanges(g.C, workers, func(_, lo, hi int) {
					phases(q, xn, ph, lo, hi)
					im2col(q, xn, ph, col, lo, hi, 0, g.OutH)
				})
				src = col
			}
			var beta float32
			if n > 0 {
				beta = 1
			}
			parallelRanges(blocks, workers, func(_, lo, hi int) {
				k0, k1 := lo*mr, min(g.K, hi*mr)
				e.sgemm(false, true, k1-k0, q.crs, q.ohw, 1, dyn[k0*q.ohw:], q.ohw, src, q.ohw, beta, dw[k0*q.crs:], q.crs)
			})
		}
	}
	if db != nil {
		db = db[:g.K]
		parallelRanges(g.K, workers, func(_, lo, hi int) {
			for k := lo; k < hi; k++ {
				var s float64
				for n := 0; n < g.N; n++ {
					s += float64(sum32(dy[n*q.kohw+k*q.ohw : n*q.kohw+(k+1)*q.ohw]))
				}
				db[k] = float32(s)
			}
		})
	}
}

// sum32 returns the sum of v in eight interleaved float32 partial sums
// (one chain of dependent additions would wait out the adder's latency on
// every element: 4x slower, measured on the bias gradient).
func sum32(v []float32) float32 {
	var a [8]float32
	n8 := len(v) &^ 7
	for i := 0; i < n8; i += 8 {
		b := v[i : i+8 : i+8]
		a[0] += b[0]
		a[1] += b[1]
		a[2] += b[2]
		a[3] += b[3]
		a[4] += b[4]
		a[5] += b[5]
		a[6] += b[6]
		a[7] += b[7]
	}
	for _, x := range v[n8:] {
		a[0] += x
	}
	return ((a[0] + a[4]) + (a[1] + a[5])) + ((a[2] + a[6]) + (a[3] + a[7]))
}

// smallPlane is the output plane size (OH*OW) below which backward filter
// gathers the whole batch into one GEMM: per image, the GEMM's depth would
// be only OH*OW while it reads and writes all of dw. This covers
// GoogLeNet's 7x7 planes (inception_5b/1x1 at batch 8: 1.2 ms instead of
// 2.4 ms, best of 4 on a loaded machine); at 14x14 per-image GEMMs measured
// faster.
const smallPlane = 64

// filterBatched computes dw = dY[K, N*OHW] · col(X)[CRS, N*OHW]ᵀ as one GEMM
// split over workers, after gathering each image's rows side by
// side (dY_n's row k becomes columns n*OHW.. of row k; no transposition).
func (e *Engine) filterBatched(q geom, x, dy, dw []float32, workers int) {
	g := q.ConvGeom
	width := g.N * q.ohw
	dyAll := e.pool.get(g.K * width)
	colAll := e.pool.get(q.crs * width)
	defer e.pool.put(dyAll)
	defer e.pool.put(colAll)
	parallelRanges(g.N, workers, func(_, lo, hi int) {
		var col []float32
		if !q.pointwise {
			col = e.pool.get(q.crs * q.ohw)
			defer e.pool.put(col)
		}
		for n := lo; n < hi; n++ {
			src := x[n*q.chw : (n+1)*q.chw]
			if !q.pointwise {
				im2col(q, src, nil, col, 0, g.C, 0, g.OutH)
				src = col
			}
			for r := 0; r < q.crs; r++ {
				copy(colAll[r*width+n*q.ohw:][:q.ohw], src[r*q.ohw:])
			}
			dyn := dy[n*q.kohw:]
			for k := 0; k < g.K; k++ {
				copy(dyAll[k*width+n*q.ohw:][:q.ohw], dyn[k*q.ohw:])
			}
		}
	})
	splitGemm(workers, false, true, g.K, q.crs, width, 1, dyAll, width, colAll, width, 0, dw, q.crs, e.sgemm)
}

// phaseW is the length of one phase row: input columns p, p+sw, p+2sw, ...
func (q geom) phaseW() int { return (q.W + q.sw - 1) / q.sw }

// phaseBuf returns a buffer for phases of one image, or nil for stride 1.
func (e *Engine) phaseBuf(q geom) []float32 {
	if q.sw == 1 || q.pointwise {
		return nil
	}
	return e.pool.get(q.C * q.H * q.sw * q.phaseW())
}

func (e *Engine) putPhases(ph []float32) {
	if ph != nil {
		e.pool.put(ph)
	}
}

// phases splits every input row of channels c0..c1 of x[C,H,W] into its sw
// column phases: ph[((c*H+ih)*sw+p)*phaseW + j] = x[c, ih, j*sw+p]. A
// strided convolution's window column s then reads a contiguous run of one
// phase row, so im2col copies runs instead of gathering every sw-th
// element (conv1's 7x7/2: 1.8 M gathered elements per image for 150 K
// moved here). ph nil (stride 1) does nothing.
func phases(q geom, x, ph []float32, c0, c1 int) {
	if ph == nil {
		return
	}
	pw := q.phaseW()
	for c := c0; c < c1; c++ {
		for ih := 0; ih < q.H; ih++ {
			xr := x[(c*q.H+ih)*q.W : (c*q.H+ih+1)*q.W]
			dst := ph[(c*q.H+ih)*q.sw*pw : (c*q.H+ih+1)*q.sw*pw]
			if q.sw == 2 {
				ev, od := dst[:pw], dst[pw:2*pw]
				n := len(xr) / 2
				for j := range xr[:n] {
					ev[j], od[j] = xr[2*j], xr[2*j+1]
				}
				if len(xr)%2 == 1 {
					ev[n] = xr[2*n]
				}
				continue
			}
			for iw, v := range xr {
				dst[(iw%q.sw)*pw+iw/q.sw] = v
			}
		}
	}
}

// im2col unrolls channels c0..c1 of one image x[C,H,W], for output rows
// oh0..oh1, into the rows (c*R+r)*S+s of col[C*R*S, (oh1-oh0)*OutW], with
// zeros for padding. With stride > 1 and ph (x's phases, see phases) it
// copies runs of phase rows; with ph nil it gathers from x.
func im2col(q geom, x, ph, col []float32, c0, c1, oh0, oh1 int) {
	pw := q.phaseW()
	hw, cols := q.H*q.W, (oh1-oh0)*q.OutW
	for c := c0; c < c1; c++ {
		xc := x[c*hw : (c+1)*hw]
		for r := 0; r < q.R; r++ {
			for s := 0; s < q.S; s++ {
				dst := col[((c*q.R+r)*q.S+s)*cols:][:cols]
				// Output columns ow whose input column iw = ow*sw-PadLeft+s
				// lies inside the image: [owLo, owHi).
				owLo, owHi := validRange(q.OutW, q.sw, q.PadLeft-s, q.W)
				for oh := oh0; oh < oh1; oh++ {
					d := dst[(oh-oh0)*q.OutW : (oh-oh0+1)*q.OutW]
					ih := oh*q.sh - q.PadTop + r
					if ih < 0 || ih >= q.H {
						clear(d)
						continue
					}
					clear(d[:owLo])
					clear(d[owHi:])
					if owLo == owHi {
						continue
					}
					xr := xc[ih*q.W : (ih+1)*q.W]
					iw := owLo*q.sw - q.PadLeft + s
					dd := d[owLo:owHi]
					if ph != nil {
						row := ph[((c*q.H+ih)*q.sw+iw%q.sw)*pw:]
						copy(dd, row[iw/q.sw:iw/q.sw+len(dd)])
						continue
					}
					switch q.sw {
					case 1:
						copy(dd, xr[iw:])
					case 2:
						// Bounds hoisted out of the loop: 2.3x faster than
						// the general stride (conv1's 7x7/2).
						src := xr[iw : iw+2*len(dd)-1]
						for i := range dd {
							dd[i] = src[2*i]
						}
					default:
						src := xr[iw : iw+q.sw*(len(dd)-1)+1]
						for i := range dd {
							dd[i] = src[q.sw*i]
						}
					}
				}
			}
		}
	}
}

// col2im adds to channels c0..c1 of dx[C,H,W] the entries of col[C*R*S,
// (oh1-oh0)*OutW] (output rows oh0..oh1) that im2col would have read from
// them. The caller clears dx first; tiles of rows accumulate.
func col2im(q geom, col, dx []float32, c0, c1, oh0, oh1 int) {
	hw, cols := q.H*q.W, (oh1-oh0)*q.OutW
	for c := c0; c < c1; c++ {
		xc := dx[c*hw : (c+1)*hw]
		for r := 0; r < q.R; r++ {
			for s := 0; s < q.S; s++ {
				src := col[((c*q.R+r)*q.S+s)*cols:][:cols]
				owLo, owHi := validRange(q.OutW, q.sw, q.PadLeft-s, q.W)
				for oh := oh0; oh < oh1; oh++ {
					ih := oh*q.sh - q.PadTop + r
					if ih < 0 || ih >= q.H {
						continue
					}
					d := src[(oh-oh0)*q.OutW : (oh-oh0+1)*q.OutW]
					xr := xc[ih*q.W : (ih+1)*q.W]
					iw := owLo*q.sw - q.PadLeft + s
					if q.sw == 1 {
						row := xr[iw : iw+owHi-owLo]
						for i, v := range d[owLo:owHi] {
							row[i] += v
						}
						continue
					}
					for ow := owLo; ow < owHi; ow++ {
						xr[iw] += d[ow]
						iw += q.sw
					}
				}
			}
		}
	}
}

// validRange returns the output positions o in [0, out) with
// 0 <= o*stride - off < size, as the half-open range [lo, hi) (lo <= hi).
func validRange(out, stride, off, size int) (lo, hi int) {
	// o*stride >= off  =>  o >= ceil(off/stride)
	if off > 0 {
		lo = (off + stride - 1) / stride
	}
	// o*stride - off <= size-1  =>  o <= floor((size-1+off)/stride)
	if size-1+off < 0 {
		return min(lo, out), min(lo, out)
	}
	hi = (size-1+off)/stride + 1
	lo, hi = min(lo, out), min(hi, out)
	if hi < lo {
		hi = lo
	}
	return lo, hi
}

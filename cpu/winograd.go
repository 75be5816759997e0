package cpu

import (
	"os"

	"github.com/goinception/googlenet/ops"
)

// EnvWinograd is the environment variable that turns the Winograd
// convolution off for every engine made afterwards when set to "0" (as
// Options.NoWinograd does for one engine), to compare the two paths.
const EnvWinograd = "GOOGLENET_WINOGRAD"

// winogradEnabled reports whether an engine made with o uses Winograd
// convolutions where they apply.
func winogradEnabled(o Options) bool {
	return !o.NoWinograd && os.Getenv(EnvWinograd) != "0"
}

// winoApplies reports whether the forward convolution q is one the Winograd
// path computes: a 3x3 kernel, stride 1 and padding 1 on every side (the
// output as large as the input), with at least winoMinTiles 2x2 output
// tiles per image. Every other geometry takes im2col+GEMM. The choice
// depends on the image size, never on the batch, so that an image gets
// the same result alone as in any batch.
func winoApplies(q geom) bool { return winoShape(q) && winoTiles(q) >= winoMinTiles }

// winoAppliesBack is winoApplies for the data gradient, with
// winoMinTilesBack.
func winoAppliesBack(q geom) bool { return winoShape(q) && winoTiles(q) >= winoMinTilesBack }

// winoShape reports whether q is a 3x3, stride-1 convolution padded by 1 on
// every side.
func winoShape(q geom) bool {
	g := q.ConvGeom
	return g.R == 3 && g.S == 3 && q.sh == 1 && q.sw == 1 &&
		g.PadTop == 1 && g.PadLeft == 1 && g.OutH == g.H && g.OutW == g.W
}

// winoTiles is the number of 2x2 output tiles of one image.
func winoTiles(q geom) int { return ((q.OutH + 1) / 2) * ((q.OutW + 1) / 2) }

// winoMinTiles is the fewest 2x2 output tiles per image for which Winograd
// is used in forward passes: GoogLeNet's smallest planes, 7x7 (16 tiles,
// 64 tiles' worth of work for 49 outputs), measured faster than im2col at
// batch 1, 2 and 8 with OpenBLAS, level at batch 1 with the pure-Go GEMM.
// Smaller planes were not measured and keep im2col. For the data gradient
// (winoMinTilesBack) the 7x7 planes measured slower at batch 1 and with the
// pure-Go GEMM, level at batch 8 with OpenBLAS, and keep im2col; the 14x14
// ones (49 tiles) were faster at batch 1, 2 and 8.
var (
	winoMinTiles     = 16
	winoMinTilesBack = 49
)

// winoBlockBytes bounds the transformed inputs and products of one block
// of tiles, V[16][C][tb] and M[16][K][tb] in float32, but blocks are cut
// no narrower than winoMinBlock tiles: OpenBLAS packs all of U_ξ (K x C)
// for each GEMM, which costs as much as 2*tb flops per element, so wide
// blocks amortize it. Variables so that tests can force many small blocks.
var (
	winoBlockBytes = 4 << 20
	winoMinBlock   = 64
)

// wino holds the derived sizes of a Winograd F(2x2,3x3) convolution. Its
// output is cut into 2x2 tiles, th x tw per image (the last row and column
// of tiles hang over an odd output edge; only valid outputs are written),
// numbered t = (n*th + i)*tw + j across the batch. Each image's tiles are
// cut into blocks of tb (the last one narrower), and the GEMMs of a block
// are done by blocks of kb output channels. Neither depends on the batch:
// OpenBLAS's rounding of an element depends on the shape of its GEMM and
// its place in it, and an image must get the same bits alone as in any
// batch (package serve relies on it).
type wino struct {
	geom
	th, tw int // tile rows and columns of one image
	tiles  int // th*tw
	tb     int // tiles per block (the width of the GEMMs)
	blocks int // blocks per image, ceil(tiles/tb)
	kb     int // output channels per GEMM
	kparts int // ceil(K/kb)
	vs, ms int // distances between the ξ planes of V[16][C][tb] and M[16][K][tb]
	// back: a data gradient, computed as the forward convolution of dy
	// with the filters rotated by 180° and their K and C swapped: U
	// holds the unrotated filters' transforms, U[ξ][C][K] in this
	// geometry's terms (see winoGemms).
	back bool
}

// planeStride returns the distance between the 16 planes of a
// transformed block of n floats each: n rounded up to a multiple of 1024,
// plus 16, so that the planes start one cache line apart modulo 4 KiB.
// The transforms read or write one value of every plane at a time; at
// multiples of 4 KiB apart, the 16 streams would fall into the same sets of
// the L1 cache and evict each other (measured: 2.4x slower on conv2/3x3).
// The 16 floats past the last plane also let the output transform's
// vector loads read past a row.
func planeStride(n int) int { return (n+1023)/1024*1024 + 16 }

// newWino sizes the blocks for workers goroutines: blocks of at most
// winoBlockBytes of V and M (but at least winoMinBlock tiles); when an
// image has fewer blocks than workers, the output channels are split into
// as many parts as it takes for one image to keep every worker busy
// (multiples of winoKAlign), so that a lone image runs on all workers.
func newWino(q geom, workers int) wino {
	wq := wino{geom: q, th: (q.OutH + 1) / 2, tw: (q.OutW + 1) / 2}
	wq.tiles = wq.th * wq.tw
	tbMax := max(winoMinBlock, winoBlockBytes/(4*16*(q.C+q.K)))
	wq.blocks = (wq.tiles + tbMax - 1) / tbMax
	wq.tb = (wq.tiles + wq.blocks - 1) / wq.blocks
	wq.blocks = (wq.tiles + wq.tb - 1) / wq.tb
	wq.kb = q.K
	if workers > wq.blocks {
		parts := (workers + wq.blocks - 1) / wq.blocks
		wq.kb = min(q.K, ((q.K+parts-1)/parts+winoKAlign-1)/winoKAlign*winoKAlign)
	}
	wq.kparts = (q.K + wq.kb - 1) / wq.kb
	wq.vs, wq.ms = planeStride(q.C*wq.tb), planeStride(q.K*wq.tb)
	return wq
}

// winoKAlign is the granularity of an output-channel split (a multiple of
// the GEMM micro-tile heights).
const winoKAlign = 16

// block returns the tiles [t0, t1) (numbered across the batch) of block b
// of image n.
func (wq *wino) block(n, b int) (t0, t1 int) {
	t0 = n*wq.tiles + b*wq.tb
	return t0, min(t0+wq.tb, (n+1)*wq.tiles)
}

// winoSegment is a run of tiles of one tile row: image n, tile row i,
// tile columns j0..j1, stored from column col of a block's V and M.
type winoSegment struct{ n, i, j0, j1, col int }

// segments appends to s the runs of tile rows that tiles [t0, t1) cover.
func (wq *wino) segments(s []winoSegment, t0, t1 int) []winoSegment {
	s = s[:0]
	for t := t0; t < t1; {
		n, r := t/wq.tiles, t%wq.tiles
		i, j0 := r/wq.tw, r%wq.tw
		j1 := min(wq.tw, j0+t1-t)
		s = append(s, winoSegment{n, i, j0, j1, t - t0})
		t += j1 - j0
	}
	return s
}

// winogradForward computes ConvForward for a geometry winoApplies accepts,
// with Winograd's minimal filtering F(2x2,3x3) (Lavin and Gray, "Fast
// Algorithms for Convolutional Neural Networks", 2016): each 4x4 input tile
// d and 3x3 filter g give a 2x2 output tile Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A, 16
// multiplications instead of 36. Summed over the input channels, the
// element-wise products become 16 GEMMs per block of tiles,
// M_ξ[K,tb] = U_ξ[K,C] · V_ξ[C,tb], with U = G g Gᵀ for every filter
// (transformed on each call: weights change between training steps) and V
// the transformed input tiles. The output transform adds the bias and
// applies the ReLU while it writes y.
//
// With at least as many blocks as workers, blocks go to the workers one at
// a time. Otherwise (one image of few tiles) the workers share each block:
// the input transform is split by input channels, then the GEMMs and the
// output transform by output channels.
func (e *Engine) winogradForward(q geom, x, w, b, y []float32, relu bool) {
	wq := newWino(q, e.nworkers())
	e.winoRun(&wq, x, w, b, y, relu)
}

// winogradBackwardData computes ConvBackwardData for a geometry winoApplies
// accepts. With stride 1 and padding 1 on every side, dx is the forward
// convolution of dy with the filters w'[c, k, r, s] = w[k, c, 2-r, 2-s],
// padding 1. Rotating g by 180° permutes its transform, G g' Gᵀ =
// P (G g Gᵀ) Pᵀ where P swaps rows 0 and 3 (G J = P G for the column
// reversal J), so U' is U with its planes permuted and each plane
// transposed: the GEMMs read U through the transpose flag (winoGemms), and
// no rotated copy of w is made.
func (e *Engine) winogradBackwardData(q geom, w, dy, dx []float32) {
	g := q.ConvGeom
	d := newGeom(ops.ConvGeom{N: g.N, C: g.K, H: g.OutH, W: g.OutW, K: g.C, R: 3, S: 3,
		StrideH: 1, StrideW: 1, PadTop: 1, PadLeft: 1, OutH: g.H, OutW: g.W})
	wq := newWino(d, e.nworkers())
	wq.back = true
	e.winoRun(&wq, dy, w, nil, dx, false)
}

// winoRun runs the convolution wq describes (see winogradForward) of x
// with the filters w into y. The workers take blocks of their own when
// there are at least as many blocks as workers; otherwise (one image of few
// tiles) they share each block: the input transform is split by input
// channels, then the GEMMs and the output transform by output channels.
func (e *Engine) winoRun(wq *wino, x, w, b, y []float32, relu bool) {
	g := wq.ConvGeom
	workers := e.nworkers()
	units := g.N * wq.blocks
	if units == 1 && workers > 1 && !wq.back {
		e.winoOneBlock(wq, w, x, b, y, relu, workers)
		return
	}
	fg := g // the geometry of w: K x C filters, C x K for a data gradient
	if wq.back {
		fg.C, fg.K = g.K, g.C
	}
	us := planeStride(g.K * g.C)
	u := e.pool.get(16 * us)
	defer e.pool.put(u)
	e.winoFilters(fg, w, u, us, workers)
	if units < workers {
		e.winoShared(wq, u, us, x, b, y, relu, workers)
		return
	}
	eachUnit(units, workers, func(_ int, next func() int) {
		v := e.pool.get(16 * wq.vs)
		m := e.pool.get(16 * wq.ms)
		pad, scratch := e.winoPad(wq)
		defer e.pool.put(v)
		defer e.pool.put(m)
		defer e.pool.put(pad)
		var segs []winoSegment
		for unit := next(); unit >= 0; unit = next() {
			t0, t1 := wq.block(unit/wq.blocks, unit%wq.blocks)
			segs = wq.segments(segs, t0, t1)
			winoInput(wq, x, v, wq.tb, segs, 0, g.C, pad)
			for k0 := 0; k0 < g.K; k0 += wq.kb {
				e.winoGemms(wq, u, us, 0, v, m, k0, t1-t0)
			}
			winoOutput(wq, m, wq.tb, segs, b, y, 0, g.K, relu, scratch)
		}
	})
}

// winoGemms computes the products M_ξ[k0:k0+kb, 0:nt] = U_ξ · V_ξ of one
// block from u[ξ][K][C] (planes us apart; u's first row is output channel
// uk0). For a data gradient u holds U[ξ][C][K] of the unrotated filters
// (uk0 = 0), and U'_ξ = U_{p(ξ)}ᵀ with p swapping the rows and the columns
// 0 and 3 of the 4x4 plane index.
func (e *Engine) winoGemms(wq *wino, u []float32, us, uk0 int, v, m []float32, k0, nt int) {
	kb := min(wq.kb, wq.K-k0)
	for xi := 0; xi < 16; xi++ {
		mx := m[xi*wq.ms+k0*wq.tb:]
		if wq.back {
			px := 4*winoFlip[xi/4] + winoFlip[xi%4]
			e.sgemm(true, false, kb, nt, wq.C, 1, u[px*us+k0:], wq.K, v[xi*wq.vs:], wq.tb, 0, mx, wq.tb)
			continue
		}
		e.sgemm(false, false, kb, nt, wq.C, 1, u[xi*us+(k0-uk0)*wq.C:], wq.C, v[xi*wq.vs:], wq.tb, 0, mx, wq.tb)
	}
}

// winoFlip is p: a rotated filter's transform has rows and columns 0 and 3
// swapped.
var winoFlip = [4]int{3, 1, 2, 0}

// winoShared is winogradForward with the workers sharing each block: the
// input transform is split over input channels, then the GEMMs and the
// output transform over the blocks of kb output channels.
func (e *Engine) winoShared(wq *wino, u []float32, us int, x, b, y []float32, relu bool, workers int) {
	g := wq.ConvGeom
	v := e.pool.get(16 * wq.vs)
	m := e.pool.get(16 * wq.ms)
	defer e.pool.put(v)
	defer e.pool.put(m)
	var segs []winoSegment
	for unit := 0; unit < g.N*wq.blocks; unit++ {
		t0, t1 := wq.block(unit/wq.blocks, unit%wq.blocks)
		segs = wq.segments(segs, t0, t1)
		e.winoInputShared(wq, x, v, segs, workers)
		parallelRanges(wq.kparts, workers, func(_, lo, hi int) {
			pad, scratch := e.winoPad(wq)
			defer e.pool.put(pad)
			for kp := lo; kp < hi; kp++ {
				k0 := kp * wq.kb
				e.winoGemms(wq, u, us, 0, v, m, k0, t1-t0)
				winoOutput(wq, m, wq.tb, segs, b, y, k0, min(g.K, k0+wq.kb), relu, scratch)
			}
		})
	}
}

// winoOneBlock is winoShared for a convolution of one block (one image of
// few tiles), with the filter transform fused in: each worker transforms
// the filters of its kb output channels into a small buffer and multiplies
// them while they are in cache. Transforming all filters first would write
// U (16/9 the size of w) to memory and read it back, which dominated such
// layers (7x7 at batch 1: 0.5 ms of 1 ms).
func (e *Engine) winoOneBlock(wq *wino, w, x, b, y []float32, relu bool, workers int) {
	g := wq.ConvGeom
	v := e.pool.get(16 * wq.vs)
	m := e.pool.get(16 * wq.ms)
	defer e.pool.put(v)
	defer e.pool.put(m)
	segs := wq.segments(nil, 0, wq.tiles)
	e.winoInputShared(wq, x, v, segs, workers)
	us := planeStride(wq.kb * g.C)
	parallelRanges(wq.kparts, workers, func(_, lo, hi int) {
		u := e.pool.get(16 * us)
		pad, scratch := e.winoPad(wq)
		defer e.pool.put(u)
		defer e.pool.put(pad)
		for kp := lo; kp < hi; kp++ {
			k0, k1 := kp*wq.kb, min(g.K, (kp+1)*wq.kb)
			winoFilterRow(w[k0*g.C*9:k1*g.C*9], u, us, (k1-k0)*g.C)
			e.winoGemms(wq, u, us, k0, v, m, k0, wq.tiles)
			winoOutput(wq, m, wq.tb, segs, b, y, k0, k1, relu, scratch)
		}
	})
}

// winoInputShared runs winoInput for the tiles of segs split over the
// workers by input channels.
func (e *Engine) winoInputShared(wq *wino, x, v []float32, segs []winoSegment, workers int) {
	parallelRanges(wq.C, workers, func(_, lo, hi int) {
		pad, _ := e.winoPad(wq)
		defer e.pool.put(pad)
		winoInput(wq, x, v, wq.tb, segs, lo, hi, pad)
	})
}

// winoPad returns a zeroed buffer for winoInput's padded rows and, after
// them, winoOutput's scratch row (both in one pooled buffer, pad).
func (e *Engine) winoPad(wq *wino) (pad, scratch []float32) {
	pw := winoPadW(wq.W)
	pad = e.pool.get(4*pw + 2*wq.tw)
	clear(pad)
	return pad, pad[4*pw:]
}

// winoFilters computes U = G g Gᵀ of every filter g = w[k, c] into
// u[ξ][K][C] (planes us apart), split over the workers by output channels.
func (e *Engine) winoFilters(g ops.ConvGeom, w, u []float32, us, workers int) {
	kblocks := (g.K + winoKAlign - 1) / winoKAlign
	parallelRanges(kblocks, workers, func(_, lo, hi int) {
		k0, k1 := lo*winoKAlign, min(g.K, hi*winoKAlign)
		winoFilterRow(w[k0*g.C*9:k1*g.C*9], u[k0*g.C:], us, (k1-k0)*g.C)
	})
}

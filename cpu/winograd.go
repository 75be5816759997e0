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
// output as large as the input), with at least winoMinTotal output tiles
// in the batch. Every other geometry takes im2col+GEMM.
func winoApplies(q geom) bool {
	g := q.ConvGeom
	return g.R == 3 && g.S == 3 && q.sh == 1 && q.sw == 1 &&
		g.PadTop == 1 && g.PadLeft == 1 && g.OutH == g.H && g.OutW == g.W &&
		g.N*((g.OutH+1)/2)*((g.OutW+1)/2) >= winoMinTotal
}

// winoMinTotal is the fewest 2x2 output tiles (over the whole batch) for
// which Winograd is used. Below it, the filter transform (U is 16/9 the
// size of w and is made on every call) and GEMMs only a few tiles wide
// cost more than the multiplications saved: GoogLeNet's 7x7 layers
// (16 tiles an image, 49 outputs for 64 tiles' worth of work) measured
// slower at batch 1 and level at batch 2, faster from batch 4; the 14x14
// layers (49 tiles) level or faster at batch 1.
var winoMinTotal = 48

// winoBlockBytes bounds the transformed inputs and products of one block
// of tiles, V[16][C][tb] and M[16][K][tb] in float32, and winoMinTiles is
// the fewest tiles a block is cut to when there are enough: OpenBLAS packs
// all of U_ξ (K x C) for each GEMM, which costs as much as 2*tb flops per
// element: wide blocks amortize it. Variables so that tests can force many
// small blocks and benchmarks can try other sizes.
var (
	winoBlockBytes = 4 << 20
	winoMinTiles   = 64
)

// winoSplitTiles is the number of tiles per worker below which the workers
// share each block (the input transform split by channels, the GEMMs and
// the output transform by output channels) instead of taking blocks of
// their own: a small layer at batch 1 (14x14: 49 tiles) would otherwise
// leave a worker idle or cut the GEMMs too narrow.
var winoSplitTiles = 128

// wino holds the derived sizes of a Winograd F(2x2,3x3) convolution. Its
// output is cut into 2x2 tiles, th x tw per image (the last row and column
// of tiles hang over an odd output edge; only valid outputs are written),
// numbered t = (n*th + i)*tw + j across the batch.
type wino struct {
	geom
	th, tw int  // tile rows and columns of one image
	tiles  int  // th*tw
	total  int  // N*tiles
	split  bool // the workers share each block
	tb     int  // tiles per block (the width of the GEMMs)
	blocks int  // ceil(total/tb)
	vs, ms int  // distances between the ξ planes of V[16][C][tb] and M[16][K][tb]
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

// newWino sizes the blocks for workers goroutines: at most winoBlockBytes
// of V and M per block (but winoMinTiles tiles), and, when the workers take
// blocks of their own, at least as many blocks as workers (a multiple of
// workers when there are few, so that no worker is left alone with the
// last one).
func newWino(q geom, workers int) wino {
	wq := wino{geom: q, th: (q.OutH + 1) / 2, tw: (q.OutW + 1) / 2}
	wq.tiles = wq.th * wq.tw
	wq.total = q.N * wq.tiles
	wq.split = workers > 1 && wq.total < workers*winoSplitTiles
	tbMax := max(winoMinTiles, winoBlockBytes/(4*16*(q.C+q.K)))
	blocks := (wq.total + tbMax - 1) / tbMax
	if !wq.split && blocks < 4*workers {
		blocks = (blocks + workers - 1) / workers * workers
	}
	blocks = max(1, min(blocks, wq.total))
	wq.tb = (wq.total + blocks - 1) / blocks
	wq.blocks = (wq.total + wq.tb - 1) / wq.tb
	wq.vs, wq.ms = planeStride(q.C*wq.tb), planeStride(q.K*wq.tb)
	return wq
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
// the transformed input tiles. Blocks go to the workers one at a time; the
// output transform adds the bias and applies the ReLU while it writes y.
func (e *Engine) winogradForward(q geom, x, w, b, y []float32, relu bool) {
	g := q.ConvGeom
	workers := e.nworkers()
	wq := newWino(q, workers)
	if wq.split && wq.blocks == 1 {
		e.winoOneBlock(&wq, w, x, b, y, relu, workers)
		return
	}
	us := planeStride(g.K * g.C)
	u := e.pool.get(16 * us)
	defer e.pool.put(u)
	e.winoFilters(g, w, u, us, workers)
	if wq.split {
		e.winoShared(&wq, u, us, x, b, y, relu, workers)
		return
	}
	eachUnit(wq.blocks, workers, func(_ int, next func() int) {
		v := e.pool.get(16 * wq.vs)
		m := e.pool.get(16 * wq.ms)
		pad, scratch := e.winoPad(&wq)
		defer e.pool.put(v)
		defer e.pool.put(m)
		defer e.pool.put(pad)
		var segs []winoSegment
		for blk := next(); blk >= 0; blk = next() {
			t0 := blk * wq.tb
			t1 := min(wq.total, t0+wq.tb)
			segs = wq.segments(segs, t0, t1)
			winoInput(&wq, x, v, wq.tb, segs, 0, g.C, pad)
			for xi := 0; xi < 16; xi++ {
				e.sgemm(false, false, g.K, t1-t0, g.C, 1, u[xi*us:], g.C, v[xi*wq.vs:], wq.tb, 0, m[xi*wq.ms:], wq.tb)
			}
			winoOutput(&wq, m, wq.tb, segs, b, y, 0, g.K, relu, scratch)
		}
	})
}

// winoShared is winogradForward with the workers sharing each block: the
// input transform is split over input channels, then the 16 GEMMs and the
// output transform over blocks of output channels.
func (e *Engine) winoShared(wq *wino, u []float32, us int, x, b, y []float32, relu bool, workers int) {
	g := wq.ConvGeom
	v := e.pool.get(16 * wq.vs)
	m := e.pool.get(16 * wq.ms)
	defer e.pool.put(v)
	defer e.pool.put(m)
	kblocks := (g.K + winoKBlock - 1) / winoKBlock
	var segs []winoSegment
	for blk := 0; blk < wq.blocks; blk++ {
		t0 := blk * wq.tb
		t1 := min(wq.total, t0+wq.tb)
		segs = wq.segments(segs, t0, t1)
		e.winoInputShared(wq, x, v, segs, workers)
		parallelRanges(kblocks, workers, func(_, lo, hi int) {
			k0, k1 := lo*winoKBlock, min(g.K, hi*winoKBlock)
			for xi := 0; xi < 16; xi++ {
				e.sgemm(false, false, k1-k0, t1-t0, g.C, 1, u[xi*us+k0*g.C:], g.C, v[xi*wq.vs:], wq.tb, 0, m[xi*wq.ms+k0*wq.tb:], wq.tb)
			}
			pad, scratch := e.winoPad(wq)
			defer e.pool.put(pad)
			winoOutput(wq, m, wq.tb, segs, b, y, k0, k1, relu, scratch)
		})
	}
}

// winoOneBlock is winoShared for a convolution whose tiles all fit in one
// block (the small layers at small batches), with the filter transform
// fused in: each worker transforms the filters of winoKBlock output
// channels at a time into a small buffer and multiplies them while they are
// in cache. Transforming all filters first would write U (16/9 the size of
// w) to memory and read it back, which dominated these layers (7x7 at
// batch 1: 0.5 ms of 1 ms).
func (e *Engine) winoOneBlock(wq *wino, w, x, b, y []float32, relu bool, workers int) {
	g := wq.ConvGeom
	v := e.pool.get(16 * wq.vs)
	m := e.pool.get(16 * wq.ms)
	defer e.pool.put(v)
	defer e.pool.put(m)
	segs := wq.segments(nil, 0, wq.total)
	e.winoInputShared(wq, x, v, segs, workers)
	kblocks := (g.K + winoKBlock - 1) / winoKBlock
	us := planeStride(winoKBlock * g.C)
	parallelRanges(kblocks, workers, func(_, lo, hi int) {
		u := e.pool.get(16 * us)
		pad, scratch := e.winoPad(wq)
		defer e.pool.put(u)
		defer e.pool.put(pad)
		for kb := lo; kb < hi; kb++ {
			k0, k1 := kb*winoKBlock, min(g.K, (kb+1)*winoKBlock)
			winoFilterRow(w[k0*g.C*9:k1*g.C*9], u, us, (k1-k0)*g.C)
			for xi := 0; xi < 16; xi++ {
				e.sgemm(false, false, k1-k0, wq.total, g.C, 1, u[xi*us:], g.C, v[xi*wq.vs:], wq.tb, 0, m[xi*wq.ms+k0*wq.tb:], wq.tb)
			}
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

// winoKBlock is the granularity of the output channels split between
// workers (a multiple of the GEMM micro-tile heights).
const winoKBlock = 48

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
	kblocks := (g.K + winoKBlock - 1) / winoKBlock
	parallelRanges(kblocks, workers, func(_, lo, hi int) {
		k0, k1 := lo*winoKBlock, min(g.K, hi*winoKBlock)
		winoFilterRow(w[k0*g.C*9:k1*g.C*9], u[k0*g.C:], us, (k1-k0)*g.C)
	})
}

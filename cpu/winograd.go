package cpu

import "os"

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
// output as large as the input). Every other geometry takes im2col+GEMM.
func winoApplies(q geom) bool {
	g := q.ConvGeom
	return g.R == 3 && g.S == 3 && q.sh == 1 && q.sw == 1 &&
		g.PadTop == 1 && g.PadLeft == 1 && g.OutH == g.H && g.OutW == g.W
}

// winoBlockBytes bounds the transformed inputs and products of one block of
// tiles, V[16][C][tb] and M[16][K][tb] in float32, so that the GEMMs and
// the output transform find them in the core's L2 cache. A variable so that
// tests can force many small blocks.
var winoBlockBytes = 1 << 20

// wino holds the derived sizes of a Winograd F(2x2,3x3) convolution. Its
// output is cut into 2x2 tiles, th x tw per image (the last row and column
// of tiles hang over an odd output edge; only valid outputs are written),
// numbered t = (n*th + i)*tw + j across the batch.
type wino struct {
	geom
	th, tw int // tile rows and columns of one image
	tiles  int // th*tw
	total  int // N*tiles
	tb     int // tiles per block (the width of the GEMMs)
	blocks int // ceil(total/tb)
}

// newWino sizes the blocks for workers goroutines: at most winoBlockBytes
// of V and M per block, and at least as many blocks as workers when there
// are enough tiles (a multiple of workers when there are few blocks, so
// that no worker is left alone with the last one).
func newWino(q geom, workers int) wino {
	wq := wino{geom: q, th: (q.OutH + 1) / 2, tw: (q.OutW + 1) / 2}
	wq.tiles = wq.th * wq.tw
	wq.total = q.N * wq.tiles
	tbMax := max(16, winoBlockBytes/(4*16*(q.C+q.K)))
	blocks := (wq.total + tbMax - 1) / tbMax
	if blocks < 4*workers {
		blocks = (blocks + workers - 1) / workers * workers
	}
	blocks = max(1, min(blocks, wq.total))
	wq.tb = (wq.total + blocks - 1) / blocks
	wq.blocks = (wq.total + wq.tb - 1) / wq.tb
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
	kc := g.K * g.C
	u := e.pool.get(16 * kc)
	defer e.pool.put(u)
	parallelRanges(g.K, workers, func(_, lo, hi int) { winoFilter(w, u, g.K, g.C, lo, hi) })
	eachUnit(wq.blocks, workers, func(_ int, next func() int) {
		v := e.pool.get(16 * g.C * wq.tb)
		m := e.pool.get(16 * g.K * wq.tb)
		pad := e.pool.get(4 * (g.W + 3))
		defer e.pool.put(v)
		defer e.pool.put(m)
		defer e.pool.put(pad)
		var segs []winoSegment
		for blk := next(); blk >= 0; blk = next() {
			t0 := blk * wq.tb
			t1 := min(wq.total, t0+wq.tb)
			nt := t1 - t0
			segs = wq.segments(segs, t0, t1)
			winoInput(&wq, x, v, wq.tb, segs, 0, g.C, pad)
			for xi := 0; xi < 16; xi++ {
				e.sgemm(false, false, g.K, nt, g.C, 1, u[xi*kc:], g.C, v[xi*g.C*wq.tb:], wq.tb, 0, m[xi*g.K*wq.tb:], wq.tb)
			}
			winoOutput(&wq, m, wq.tb, segs, b, y, 0, g.K, relu)
		}
	})
}

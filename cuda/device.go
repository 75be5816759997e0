package cuda

import (
	"sync"
	"sync/atomic"

	"github.com/pkg/errors"

	"github.com/goinception/googlenet/ops"
)

// Device runs the network's kernels on device-resident buffers. Every
// method takes device pointers (Ptr) and queues kernel launches on its
// Executor without copying anything to or from the host, so a caller that
// chains them keeps activations on the device between layers; only the
// batch going in and the loss coming out need cross the bus.
//
// Outputs are overwritten, never accumulated into (use Axpy to accumulate).
// Methods validate their sizes and return errors; they do not synchronise
// (call Sync, or Download, to wait and see deferred failures).
type Device struct {
	ex   Executor
	pool *Pool

	// ScratchBytes bounds the im2col buffer; convolutions process as many
	// images per GEMM launch as fit (at least one). Default 256 MiB.
	ScratchBytes int64

	mu       sync.Mutex // guards the scratch buffer and the library plans
	col      Ptr
	colBytes int64

	libp atomic.Pointer[libState] // cuDNN and cuBLAS, when in use (UseLibraries)
}

// NewDevice returns a Device over ex with its own buffer pool.
func NewDevice(ex Executor) *Device {
	return &Device{ex: ex, pool: NewPool(ex), ScratchBytes: 256 << 20}
}

// Executor returns the executor the device launches on.
func (d *Device) Executor() Executor { return d.ex }

// Pool returns the device's buffer pool.
func (d *Device) Pool() *Pool { return d.pool }

// Sync waits for all queued work.
func (d *Device) Sync() error { return errors.Wrap(d.ex.Sync(), "cuda: sync") }

// Close returns the scratch buffer, releases the library handles and frees
// the pool's free buffers.
func (d *Device) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if s := d.libp.Swap(nil); s != nil {
		if s.ws != 0 {
			if err := d.pool.Put(s.ws); err != nil {
				return err
			}
		}
		if err := s.destroy(); err != nil {
			return err
		}
	}
	if d.col != 0 {
		if err := d.pool.Put(d.col); err != nil {
			return err
		}
		d.col, d.colBytes = 0, 0
	}
	return d.pool.Release()
}

func (d *Device) run(l Launch) error {
	if err := l.Validate(); err != nil {
		return err
	}
	return errors.Wrapf(d.ex.Launch(l), "cuda: launching %v", l)
}

// scratch returns a buffer of at least bytes bytes; d.mu must be held.
func (d *Device) scratch(bytes int64) (Ptr, error) {
	if d.colBytes >= bytes {
		return d.col, nil
	}
	if d.col != 0 {
		if err := d.pool.Put(d.col); err != nil {
			return 0, err
		}
		d.col, d.colBytes = 0, 0
	}
	p, err := d.pool.Get(bytes)
	if err != nil {
		return 0, errors.Wrap(err, "cuda: im2col scratch")
	}
	d.col, d.colBytes = p, sizeClass(bytes)
	return p, nil
}

// gemmLaunch builds one strided-batched sgemm launch (see kernels/gemm.cu).
type gemmArgs struct {
	ta, tb         bool
	m, n, k        int
	alpha, beta    float32
	a, b, c        Ptr
	lda, ldb, ldc  int
	sa, sb, sc     int // batch strides in elements
	batch          int
	bias           Ptr
	biasMode, relu int
	// Column blocking (see kernels/gemm.cu): storage column s of A, B or C
	// is at (s/blk)*blkStride + s%blk when blk > 0.
	aBlk, aBS, bBlk, bBS, cBlk, cBS int
}

// Tile sizes of kernels/gemm.cu: sgemm 64x64, sgemm_128 128x128 (used when
// both M and N reach it).
const (
	gemmTile = 64
	bigTile  = 128
)

func (d *Device) gemm(g gemmArgs) error {
	if g.m == 0 || g.n == 0 || g.batch == 0 {
		return nil
	}
	if err := checkInt("sgemm", g.m, g.n, g.k, g.lda, g.ldb, g.ldc, g.aBlk, g.bBlk, g.cBlk); err != nil {
		return err
	}
	if ok, err := d.blasGemm(g); ok {
		return err
	}
	b2i := func(b bool) int {
		if b {
			return 1
		}
		return 0
	}
	kernel, tile := "sgemm", gemmTile
	if g.m >= bigTile && g.n >= bigTile {
		kernel, tile = "sgemm_128", bigTile
	}
	for z0 := 0; z0 < g.batch; z0 += maxGridYZ {
		nz := min(g.batch-z0, maxGridYZ)
		l := Launch{Module: "gemm", Kernel: kernel,
			Grid:  Dim3{(g.n + tile - 1) / tile, (g.m + tile - 1) / tile, nz},
			Block: Dim3{threads, 1, 1},
			Args: []Arg{Int32Arg(b2i(g.ta)), Int32Arg(b2i(g.tb)), Int32Arg(g.m), Int32Arg(g.n), Int32Arg(g.k),
				FloatArg(g.alpha),
				PtrArg(g.a.Add(z0 * g.sa)), Int32Arg(g.lda), Int64Arg(int64(g.sa)),
				PtrArg(g.b.Add(z0 * g.sb)), Int32Arg(g.ldb), Int64Arg(int64(g.sb)),
				FloatArg(g.beta), PtrArg(g.c.Add(z0 * g.sc)), Int32Arg(g.ldc), Int64Arg(int64(g.sc)),
				PtrArg(g.bias), Int32Arg(g.biasMode), Int32Arg(g.relu),
				Int32Arg(g.aBlk), Int64Arg(int64(g.aBS)), Int32Arg(g.bBlk), Int64Arg(int64(g.bBS)),
				Int32Arg(g.cBlk), Int64Arg(int64(g.cBS))},
		}
		if err := d.run(l); err != nil {
			return err
		}
	}
	return nil
}

// Gemm computes C = alpha*op(A)*op(B) + beta*C in row-major storage (the
// ops.Engine contract; C is not read when beta is 0).
func (d *Device) Gemm(ta, tb bool, m, n, k int, alpha float32, a Ptr, lda int, b Ptr, ldb int, beta float32, c Ptr, ldc int) error {
	if m < 0 || n < 0 || k < 0 {
		return errors.Errorf("cuda: Gemm: negative size %dx%dx%d", m, n, k)
	}
	return d.gemm(gemmArgs{ta: ta, tb: tb, m: m, n: n, k: k, alpha: alpha, beta: beta,
		a: a, b: b, c: c, lda: lda, ldb: ldb, ldc: ldc, batch: 1})
}

// Linear computes y[n,out] = x[n,in]·w[out,in]ᵀ + bias[out] (bias may be 0),
// then max(0, .) if relu.
func (d *Device) Linear(x, w, bias, y Ptr, n, in, out int, relu bool) error {
	if n <= 0 || in <= 0 || out <= 0 {
		return errors.Errorf("cuda: Linear: bad sizes n=%d in=%d out=%d", n, in, out)
	}
	bm := 0
	if bias != 0 {
		bm = 2
	}
	r := 0
	if relu {
		r = 1
	}
	return d.gemm(gemmArgs{tb: true, m: n, n: out, k: in, alpha: 1, a: x, lda: in, b: w, ldb: in,
		c: y, ldc: out, batch: 1, bias: bias, biasMode: bm, relu: r})
}

func checkConv(g ops.ConvGeom) error {
	if g.N <= 0 || g.C <= 0 || g.H <= 0 || g.W <= 0 || g.K <= 0 || g.R <= 0 || g.S <= 0 ||
		g.OutH <= 0 || g.OutW <= 0 || g.StrideH < 0 || g.StrideW < 0 || g.PadTop < 0 || g.PadLeft < 0 {
		return errors.Errorf("cuda: bad convolution geometry %+v", g)
	}
	return checkInt("convolution", g.N*g.C*g.H*g.W, g.N*g.K*g.OutH*g.OutW, g.C*g.R*g.S*g.OutH*g.OutW)
}

func strides(g ops.ConvGeom) (int, int) { return max(g.StrideH, 1), max(g.StrideW, 1) }

func pointwise(g ops.ConvGeom) bool {
	sh, sw := strides(g)
	return g.R == 1 && g.S == 1 && sh == 1 && sw == 1 && g.PadTop == 0 && g.PadLeft == 0 &&
		g.OutH == g.H && g.OutW == g.W
}

// chunk returns how many images' im2col columns fit the scratch limit.
func (d *Device) chunk(g ops.ConvGeom) int {
	per := int64(4 * g.C * g.R * g.S * g.OutH * g.OutW)
	return int(max(1, min(int64(g.N), d.ScratchBytes/per)))
}

func (d *Device) im2colArgs(kernel string, g ops.ConvGeom, src, dst Ptr, n0, nb int, total int) Launch {
	sh, sw := strides(g)
	return launch1D(kernel, total, PtrArg(src), PtrArg(dst), Int32Arg(n0), Int32Arg(nb),
		Int32Arg(g.C), Int32Arg(g.H), Int32Arg(g.W), Int32Arg(g.R), Int32Arg(g.S),
		Int32Arg(sh), Int32Arg(sw), Int32Arg(g.PadTop), Int32Arg(g.PadLeft), Int32Arg(g.OutH), Int32Arg(g.OutW))
}

// ConvForward computes y = conv(x, w) + b (b may be 0), then max(0, .) if
// relu: im2col over chunks of images, then one GEMM per chunk whose columns
// run over all the chunk's output pixels (column blocking maps them to
// NCHW), with the bias and ReLU fused into its epilogue. 1x1 stride-1
// convolutions skip im2col: the GEMM reads x directly.
func (d *Device) ConvForward(g ops.ConvGeom, x, w, b, y Ptr, relu bool) error {
	return d.ConvForwardInto(g, x, w, b, y, g.K*g.OutH*g.OutW, relu)
}

// ConvForwardInto is ConvForward writing image n of the output at
// y + n*yStride elements (yStride >= K*OutH*OutW): y may be a channel slice
// of a wider tensor, such as one branch of an Inception module's
// concatenated output, which then needs no concat copy.
func (d *Device) ConvForwardInto(g ops.ConvGeom, x, w, b, y Ptr, yStride int, relu bool) error {
	if err := checkConv(g); err != nil {
		return err
	}
	crs, ohw := g.C*g.R*g.S, g.OutH*g.OutW
	if yStride < g.K*ohw {
		return errors.Errorf("cuda: ConvForwardInto: output image stride %d < %d", yStride, g.K*ohw)
	}
	if err := checkInt("ConvForwardInto", g.N*yStride); err != nil {
		return err
	}
	ga := gemmArgs{m: g.K, k: crs, alpha: 1, a: w, lda: crs, ldb: ohw, ldc: ohw, batch: 1,
		bias: b, bBlk: ohw, cBlk: ohw, cBS: yStride}
	if b != 0 {
		ga.biasMode = 1
	}
	if relu {
		ga.relu = 1
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if ok, err := d.dnnForward(g, x, w, b, y, yStride, relu); ok {
		return err
	}
	if pointwise(g) {
		ga.b, ga.bBS, ga.c, ga.n = x, g.C*ohw, y, g.N*ohw
		return errors.Wrap(d.gemm(ga), "cuda: ConvForward")
	}
	nb := d.chunk(g)
	col, err := d.scratch(int64(4 * nb * crs * ohw))
	if err != nil {
		return err
	}
	for n0 := 0; n0 < g.N; n0 += nb {
		m := min(nb, g.N-n0)
		if err := d.run(d.im2colArgs("im2col", g, x, col, n0, m, m*crs*ohw)); err != nil {
			return errors.Wrap(err, "cuda: ConvForward")
		}
		ga.b, ga.bBS, ga.c, ga.n = col, crs*ohw, y.Add(n0*yStride), m*ohw
		if err := d.gemm(ga); err != nil {
			return errors.Wrap(err, "cuda: ConvForward")
		}
	}
	return nil
}

// ConvBackwardData computes dx from dy and w: one GEMM wᵀ·dy per chunk of
// images into columns (column-blocked like ConvForward), then col2im (a
// gather, so dx is overwritten without atomics).
func (d *Device) ConvBackwardData(g ops.ConvGeom, w, dy, dx Ptr) error {
	if err := checkConv(g); err != nil {
		return err
	}
	crs, ohw := g.C*g.R*g.S, g.OutH*g.OutW
	ga := gemmArgs{ta: true, m: crs, k: g.K, alpha: 1, a: w, lda: crs, ldb: ohw, ldc: ohw, batch: 1,
		bBlk: ohw, bBS: g.K * ohw, cBlk: ohw}
	d.mu.Lock()
	defer d.mu.Unlock()
	if ok, err := d.dnnBackwardData(g, w, dy, dx); ok {
		return err
	}
	if pointwise(g) {
		ga.b, ga.c, ga.cBS, ga.n = dy, dx, g.C*ohw, g.N*ohw
		return errors.Wrap(d.gemm(ga), "cuda: ConvBackwardData")
	}
	nb := d.chunk(g)
	col, err := d.scratch(int64(4 * nb * crs * ohw))
	if err != nil {
		return err
	}
	for n0 := 0; n0 < g.N; n0 += nb {
		m := min(nb, g.N-n0)
		ga.b, ga.c, ga.cBS, ga.n = dy.Add(n0*g.K*ohw), col, crs*ohw, m*ohw
		if err := d.gemm(ga); err != nil {
			return errors.Wrap(err, "cuda: ConvBackwardData")
		}
		if err := d.run(d.im2colArgs("col2im", g, col, dx, n0, m, m*g.C*g.H*g.W)); err != nil {
			return errors.Wrap(err, "cuda: ConvBackwardData")
		}
	}
	return nil
}

// ConvBackwardFilter computes dw = Σ_n dy_n·col(x_n)ᵀ and db = Σ dy per
// channel (db may be 0). Per chunk of images, one strided-batched GEMM
// writes each image's partial dw, and a second GEMM with a ones vector sums
// the partials into dw (beta = 1 after the first chunk): two launches per
// chunk instead of one small GEMM per image.
func (d *Device) ConvBackwardFilter(g ops.ConvGeom, x, dy, dw, db Ptr) error {
	if err := checkConv(g); err != nil {
		return err
	}
	crs, ohw := g.C*g.R*g.S, g.OutH*g.OutW
	kcrs := g.K * crs
	pw := pointwise(g)
	d.mu.Lock()
	defer d.mu.Unlock()
	if ok, err := d.dnnBackwardFilter(g, x, dy, dw, db); ok {
		return err
	}
	// Images per chunk: bounded by the im2col scratch and by the partials.
	nb := int(max(1, min(int64(g.N), d.ScratchBytes/int64(4*kcrs))))
	if !pw {
		nb = min(nb, d.chunk(g))
	}
	var col Ptr
	if !pw {
		var err error
		if col, err = d.scratch(int64(4 * nb * crs * ohw)); err != nil {
			return err
		}
	}
	parts, err := d.pool.GetFloats(nb * kcrs)
	if err != nil {
		return errors.Wrap(err, "cuda: ConvBackwardFilter partials")
	}
	defer d.pool.Put(parts)
	ones, err := d.pool.GetFloats(nb)
	if err != nil {
		return errors.Wrap(err, "cuda: ConvBackwardFilter ones")
	}
	defer d.pool.Put(ones)
	if err := d.Fill(ones, 1, nb); err != nil {
		return err
	}
	for n0 := 0; n0 < g.N; n0 += nb {
		m := min(nb, g.N-n0)
		ga := gemmArgs{tb: true, m: g.K, n: crs, k: ohw, alpha: 1, a: dy.Add(n0 * g.K * ohw), lda: ohw, sa: g.K * ohw,
			ldb: ohw, c: parts, ldc: crs, sc: kcrs, batch: m}
		if pw {
			ga.b, ga.sb = x.Add(n0*g.C*ohw), g.C*ohw
		} else {
			if err := d.run(d.im2colArgs("im2col", g, x, col, n0, m, m*crs*ohw)); err != nil {
				return errors.Wrap(err, "cuda: ConvBackwardFilter")
			}
			ga.b, ga.sb = col, crs*ohw
		}
		if err := d.gemm(ga); err != nil {
			return errors.Wrap(err, "cuda: ConvBackwardFilter")
		}
		// dw[1, K*CRS] (+)= ones[1, m] · parts[m, K*CRS]
		beta := float32(1)
		if n0 == 0 {
			beta = 0
		}
		red := gemmArgs{m: 1, n: kcrs, k: m, alpha: 1, a: ones, lda: m, b: parts, ldb: kcrs, beta: beta,
			c: dw, ldc: kcrs, batch: 1}
		if err := d.gemm(red); err != nil {
			return errors.Wrap(err, "cuda: ConvBackwardFilter")
		}
	}
	if db != 0 {
		return errors.Wrap(d.BiasGrad(dy, db, g.N, g.K, ohw), "cuda: ConvBackwardFilter")
	}
	return nil
}

// BiasGrad computes db[k] = Σ_{n,p} dy[n,k,p] for dy [n,k,hw].
func (d *Device) BiasGrad(dy, db Ptr, n, k, hw int) error {
	if n <= 0 || k <= 0 || hw <= 0 {
		return errors.Errorf("cuda: BiasGrad: bad sizes %d %d %d", n, k, hw)
	}
	if err := checkInt("BiasGrad", n*k*hw); err != nil {
		return err
	}
	return d.run(Launch{Module: "misc", Kernel: "bias_grad", Grid: Dim3{k, 1, 1}, Block: Dim3{threads, 1, 1},
		Args: []Arg{PtrArg(dy), PtrArg(db), Int32Arg(n), Int32Arg(k), Int32Arg(hw)}})
}

// ReLUBackward computes dx = dy where y > 0, else 0, over n elements.
func (d *Device) ReLUBackward(y, dy, dx Ptr, n int) error {
	if n <= 0 {
		return errors.Errorf("cuda: ReLUBackward: bad size %d", n)
	}
	return d.run(launch1D("relu_bwd", n, PtrArg(y), PtrArg(dy), PtrArg(dx), Int64Arg(int64(n))))
}

// ReLUBackwardView computes dz [n,nch,hw] (contiguous) = dy where y > 0,
// else 0, with y and dy read at image stride yStride (a channel slice of a
// wider tensor; yStride = nch*hw for a whole tensor).
func (d *Device) ReLUBackwardView(y, dy, dz Ptr, n, nch, hw, yStride int) error {
	if n <= 0 || nch <= 0 || hw <= 0 || yStride < nch*hw {
		return errors.Errorf("cuda: ReLUBackwardView: bad sizes n=%d nch=%d hw=%d stride=%d", n, nch, hw, yStride)
	}
	if err := checkInt("ReLUBackwardView", n*yStride); err != nil {
		return err
	}
	return d.run(launch1D("relu_bwd_view", n*nch*hw, PtrArg(y), PtrArg(dy), PtrArg(dz), Int32Arg(n), Int32Arg(nch),
		Int32Arg(hw), Int64Arg(int64(yStride))))
}

// Axpy computes y += a*x over n elements.
func (d *Device) Axpy(a float32, x, y Ptr, n int) error {
	if n <= 0 {
		return errors.Errorf("cuda: Axpy: bad size %d", n)
	}
	return d.run(launch1D("axpy", n, FloatArg(a), PtrArg(x), PtrArg(y), Int64Arg(int64(n))))
}

// Fill sets n elements of x to v.
func (d *Device) Fill(x Ptr, v float32, n int) error {
	if n <= 0 {
		return errors.Errorf("cuda: Fill: bad size %d", n)
	}
	return d.run(launch1D("fill", n, PtrArg(x), FloatArg(v), Int64Arg(int64(n))))
}

// ChannelCopy copies nch channels of each of n images between NCHW tensors
// of hw-sized planes: dst[i, dstOff+c] = src[i, srcOff+c]. A channel concat
// is one call per input with srcOff 0; its backward (the split) one call per
// input with dstOff 0.
func (d *Device) ChannelCopy(src Ptr, srcC, srcOff int, dst Ptr, dstC, dstOff, nch, n, hw int) error {
	if nch <= 0 || n <= 0 || hw <= 0 || srcOff < 0 || dstOff < 0 || srcOff+nch > srcC || dstOff+nch > dstC {
		return errors.Errorf("cuda: ChannelCopy: bad channels src %d+%d of %d, dst %d+%d of %d",
			srcOff, nch, srcC, dstOff, nch, dstC)
	}
	if err := checkInt("ChannelCopy", n*max(srcC, dstC)*hw); err != nil {
		return err
	}
	return d.run(launch1D("channel_copy", n*nch*hw, PtrArg(src), Int32Arg(srcC), Int32Arg(srcOff),
		PtrArg(dst), Int32Arg(dstC), Int32Arg(dstOff), Int32Arg(nch), Int32Arg(n), Int32Arg(hw)))
}

// ConcatChannels writes the channel concatenation of srcs (each [n, c_i,
// hw]) into dst [n, Σc_i, hw], in order.
func (d *Device) ConcatChannels(dst Ptr, n, hw int, srcs []Ptr, channels []int) error {
	if len(srcs) != len(channels) || len(srcs) == 0 {
		return errors.New("cuda: ConcatChannels: need one channel count per input")
	}
	total := 0
	for _, c := range channels {
		total += c
	}
	off := 0
	for i, s := range srcs {
		if err := d.ChannelCopy(s, channels[i], 0, dst, total, off, channels[i], n, hw); err != nil {
			return errors.Wrapf(err, "cuda: ConcatChannels input %d", i)
		}
		off += channels[i]
	}
	return nil
}

// SoftmaxCrossEntropy computes, for logits [n,k] and int32 labels [n], the
// per-row losses -log softmax(logits)[label] into loss [n] and
// grad = gradScale*(softmax - onehot) into grad [n,k] (gradScale 1/n for the
// batch mean). A label outside [0,k) yields NaN in its row.
func (d *Device) SoftmaxCrossEntropy(logits, labels, loss, grad Ptr, n, k int, gradScale float32) error {
	if n <= 0 || k <= 0 {
		return errors.Errorf("cuda: SoftmaxCrossEntropy: bad sizes %d %d", n, k)
	}
	if err := checkInt("SoftmaxCrossEntropy", n*k); err != nil {
		return err
	}
	return d.run(Launch{Module: "misc", Kernel: "softmax_xent", Grid: Dim3{n, 1, 1}, Block: Dim3{threads, 1, 1},
		Args: []Arg{PtrArg(logits), PtrArg(labels), PtrArg(loss), PtrArg(grad), Int32Arg(n), Int32Arg(k),
			FloatArg(gradScale)}})
}

// SGDMomentum applies PyTorch's SGD step to n parameters:
// g' = g + wd*w; v = mu*v + g'; w -= lr*v.
func (d *Device) SGDMomentum(w, g, v Ptr, n int, lr, mu, wd float32) error {
	if n <= 0 {
		return errors.Errorf("cuda: SGDMomentum: bad size %d", n)
	}
	return d.run(launch1D("sgd_momentum", n, PtrArg(w), PtrArg(g), PtrArg(v), Int64Arg(int64(n)),
		FloatArg(lr), FloatArg(mu), FloatArg(wd)))
}

// splitmix64 and dropoutKey reproduce ops' dropout mask derivation (see
// ops.DropoutKeep); TestDropout checks the device mask against it.
func splitmix64(z uint64) uint64 {
	z += 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func dropoutKey(seed, step uint64, index int) uint64 {
	return splitmix64(splitmix64(splitmix64(seed)^step) ^ uint64(index))
}

// Dropout computes y = x·mask/(1-rate) over n elements with the mask of
// ops.Dropout for (seed, step, index): element i is kept when
// ops.DropoutKeep(seed, step, index, i, rate). Applied to dy with the same
// arguments it is the backward pass.
func (d *Device) Dropout(x, y Ptr, n int, seed, step uint64, index int, rate float64) error {
	if n <= 0 || !(rate >= 0 && rate < 1) {
		return errors.Errorf("cuda: Dropout: bad size %d or rate %v", n, rate)
	}
	return d.run(launch1D("dropout", n, PtrArg(x), PtrArg(y), Int64Arg(int64(n)),
		Uint64Arg(dropoutKey(seed, step, index)), Float64Arg(rate), FloatArg(float32(1/(1-rate)))))
}

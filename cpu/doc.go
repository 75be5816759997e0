// Package cpu is the fast CPU engine: an ops.Engine for float32
// convolutions and GEMMs on OpenBLAS (loaded at run time, without cgo) or,
// when no BLAS library is present, on a pure-Go packed SGEMM. Its other
// kernels (pooling, LRN, batch norm, softmax cross-entropy, dropout,
// concatenation, the SGD update) are the ones of ops.Reference, which are
// already the fast ones on a CPU (parallel, with AVX where it pays). It is the CPU
// twin of package cuda and passes the same conformance suite (ops/opstest).
//
// The engine is a value: give it to the graphs that should run on it,
//
//	m, err := inception.New(cfg) // with cfg.Engine = cpu.New(cpu.Options{})
//
// (graph.Options.Engine for a builder, ops.With for single ops),
// and make Gorgonia's own matrix products use the same GEMM with
//
//	cpu.UseWithGorgonia()
//
// # Finding the BLAS library
//
// The default build needs nothing but Go: the library is opened with
// github.com/ebitengine/purego (dlopen without cgo) the first time an engine
// is made. The environment variable GOOGLENET_BLAS (EnvBLAS) chooses:
//
//	GOOGLENET_BLAS=go                       pure-Go GEMM, no library is opened
//	GOOGLENET_BLAS=/path/to/libopenblas.so  that library (error if unusable)
//	GOOGLENET_BLAS= (or auto)               the first of DefaultLibraries:
//	                                        libopenblas.so.0, libopenblas.so,
//	                                        libblas.so.3 (if it has CBLAS)
//
// Only cblas_sgemm and cblas_dgemm (32-bit integers) are required;
// openblas_set_num_threads is used when present. On Debian and Ubuntu,
// `apt-get install libopenblas0` provides the library. When none is found
// the engine still works and Hint is logged once, through the logger set
// with SetLogger (standard error by default). Options.PureGo forces the
// pure-Go GEMM for one engine.
//
// # Threads
//
// All parallelism is in Go: OpenBLAS is loaded with OPENBLAS_NUM_THREADS=1
// (unless the variable is set; its idle worker threads otherwise took 17%
// of the CPU samples of a pure-Go benchmark) and set to one thread
// (process-wide), and each call splits its work over Options.Workers
// goroutines (GOMAXPROCS by default). Convolutions with at least as many
// images as workers give each goroutine whole images; smaller batches split
// each image's GEMM by output channels (or input channels for backward
// data). Engine.Gemm and the Gorgonia BLAS split large products into row or
// column blocks. One strategy means no oversubscription: OpenBLAS's own
// threads never run beside the engine's goroutines, and the engine's calls
// from several goroutines at once stay correct (TestConcurrentUse).
//
// The goroutines are helpers of package internal/par, which wait on their
// core for up to 100 µs after a job before they sleep (offering it to any
// other goroutine every 10 µs): a batch-1 forward
// pass is a few hundred parallel regions, and waking a sleeping thread
// for each took 25-30 µs on the 2-core development machine. When the
// machine is busy with other processes (a helper misses its job), nobody
// spins for 50 ms. GOOGLENET_SPIN sets the wait ("0": never, as plain
// goroutines; "50us"); it is read once, at start.
//
// The alternative, one goroutine and OpenBLAS's threads inside each GEMM, is
// kept in the benchmarks ("openblas_threads"). On the 2-core development
// machines (shared, so differences under about 30% are noise) it was faster
// on a lone square SGEMM (512³: 131 vs 125 GFLOP/s with
// OPENBLAS_CORETYPE=Haswell, 369 vs 273 with OpenBLAS's native kernels) and
// within noise on most GoogLeNet layers at batch 8, where whole images per
// goroutine won on the small 1x1 layers (inception_3a/1x1 forward 0.78 vs
// 0.98 ms, backward data 0.68 vs 1.33 ms).
//
// # Convolutions
//
// Tensors are NCHW, filters KCRS, as in ops.ConvGeom.
//
//   - Forward: a 1x1, stride-1, unpadded convolution (most of GoogLeNet) is
//     the GEMM Y_n[K,HW] = W[K,C] · X_n[C,HW] on the image itself, with no
//     copy. Other kernels unroll each image with im2col into a reused
//     buffer, then Y_n = W[K,CRS] · col[CRS,OHW]. Bias and ReLU are applied
//     in one pass over the output rows after the GEMM (the epilogue). An
//     image whose unrolled columns exceed 1 MiB (conv1, conv2/3x3) is done
//     a block of output rows at a time (unroll, GEMM, epilogue), so the
//     GEMM reads columns still in cache. A strided convolution first splits
//     each input row into its column phases (x[.,.,j*sw+p]), so that im2col
//     copies contiguous runs instead of gathering every sw-th element.
//   - Forward, 3x3, stride 1, padding 1: Winograd (next section).
//   - Backward data: for 3x3, stride 1, padding 1, Winograd (next
//     section); otherwise dcol = Wᵀ · dY_n (the transpose is the GEMM's flag, not
//     a copy), written into dX_n directly for 1x1 convolutions, otherwise
//     folded back by col2im (by the same row blocks).
//   - Backward filter: dW = Σ_n dY_n · col_nᵀ, accumulated through the
//     GEMM's beta = 1, one partial sum per goroutine; db = row sums of dY.
//     For small output planes (OH*OW < 64, GoogLeNet's 7x7 stages) the
//     rows of all images are gathered side by side and dW is one GEMM of
//     depth N*OH*OW instead of N GEMMs that each sweep all of dW.
//
// # Winograd convolutions
//
// Forward 3x3 convolutions with stride 1 and padding 1 (GoogLeNet's
// conv2/3x3 and every inception module's 3x3 branch, 61% of its
// multiply-adds) use Winograd's minimal filtering F(2x2,3x3) (Lavin and
// Gray, "Fast Algorithms for Convolutional Neural Networks", 2016). The
// output is cut into 2x2 tiles; each 4x4 input tile
// d and filter g give Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A, 16 multiplications instead
// of 36, and the products summed over input channels are 16 GEMMs per block
// of tiles, M_ξ[K,tiles] = U_ξ[K,C] · V_ξ[C,tiles], on the engine's GEMM
// (OpenBLAS or pure Go). The filters are transformed on every call (weights
// change between training steps); the three transforms are AVX-512
// assembly with portable twins; the output transform adds the bias and
// applies the ReLU as it writes y.
//
// The data gradient of such a convolution is the same computation: dx is
// the forward convolution of dy with the filters rotated by 180° and their
// input and output channels swapped, padding 1. Rotating a filter permutes
// its transform (G g' Gᵀ = P G g Gᵀ Pᵀ, P swapping rows 0 and 3), so the
// GEMMs read the unrotated filters' U through the transpose flag with the
// planes permuted, and no rotated copy of w is made.
//
// Each image's tiles are cut into blocks of at least 64 (V and M up to
// 4 MiB), and the blocks go to the workers one at a time. When an image has
// fewer blocks than workers, each block's GEMMs are also cut by output
// channels, as many parts as the workers need, and a lone image's block is
// shared: the input transform split by channels, the GEMMs and the output
// transform by the output-channel parts, each worker transforming its own
// filters right before multiplying them, while they are in cache. Blocks
// never span images and their shapes never depend on the batch, so an image
// gets the same result bit for bit alone as in any batch (OpenBLAS rounds
// an element differently in GEMMs of other shapes; package serve relies on
// it). Planes of fewer than 16 tiles (smaller than 7x7) keep im2col, and
// data gradients of planes under 49 tiles (7x7: level or slower there).
//
// Results differ from im2col's in the last bits (the transforms add and
// subtract inputs before multiplying; the largest error measured is 2e-7 of
// the sum of the terms' magnitudes, the conformance tolerance 1e-5), and an
// infinite input can come out as NaN instead of ±Inf (Inf - Inf inside a
// transform); NaN propagates to the same outputs. Options.NoWinograd, or
// GOOGLENET_WINOGRAD=0 (EnvWinograd) for every engine, turns it off.
//
// Measured on the 2-core AVX-512 development machine (OpenBLAS native
// kernels; shared, so best of 3 alternating runs): BenchmarkWinograd's
// conv2/3x3 at batch 8 took 19 ms instead of 40 ms forward and 15 instead
// of 27 ms for the data gradient; the 14x14 3x3 layers were 1.2-1.8x
// faster at batch 8 and 1.3-1.6x at batch 1 forward, 1.2-1.6x for the
// data gradient; the 7x7 ones 1.0-2.0x forward. The whole paper network
// (googlenet bench --variant paper, old and new binaries alternating,
// medians of 3 rounds on a loaded machine) took 234 instead of 301 CPU ms
// per inference batch of 8, 36.6 instead of 45.0 per single image, and
// about 790 instead of 900 per training step of 8. The scratch buffers add
// about 13 MB to the peak RSS of inference at batch 8.
//
// Scratch buffers (im2col columns, partial sums, GEMM packing) are kept in
// free lists and reused across calls; an engine is safe for concurrent use.
// Forward and backward-data passes hand images to the workers one at a
// time as they finish (a core slowed by another process takes fewer);
// the filter gradient splits its images statically, because which images
// a partial sum holds changes its rounding. So results are bit-for-bit
// repeatable for a given backend and worker count.
//
// # The pure-Go GEMM
//
// Goto's algorithm: B is packed in kc x nc panels and A in mc x kc blocks
// into micro-panels, and a 12x16 micro-kernel accumulates one tile of C. On
// amd64 the micro-kernel is assembly (kernel_amd64.s): AVX-512 when the CPU
// has it, otherwise AVX2/FMA (two 6x16 halves); the doc comment of each
// names the Go loop it implements, kernelGo, which other CPUs run. The
// bias+ReLU epilogue is AVX assembly with the same portable twin.
//
// Measured on the 2-core AVX-512 development machine (shared; best of
// several runs), 512³ SGEMM: AVX-512 kernel about 150-200 GFLOP/s, AVX2
// about 105-115, portable Go 11-18, gonum's Sgemm 10-30; OpenBLAS 0.3.21
// about 125 with OPENBLAS_CORETYPE=Haswell and 270 with its native kernels.
// For all of GoogLeNet's convolutions at batch 8 (BenchmarkGoogLeNetConvs,
// best of 5 interleaved runs on a saturated shared machine, so only the
// ratios mean something): with OPENBLAS_CORETYPE=Haswell set, the pure-Go
// GEMM was faster for a training step (1.66 vs 2.28 s) and level for the
// forward pass (0.73 vs 0.71 s); OpenBLAS with its native kernels (both
// variables unset) was fastest (0.43 s forward, 1.19 s training). On such a
// machine with the variable set, GOOGLENET_BLAS=go is worth measuring.
//
// # Errors
//
// The engine's methods implement ops.Engine and return nothing: arguments
// that do not fit their slices are programmer errors and panic with a
// message prefixed "cpu:", as gonum's BLAS does. Library loading returns
// errors (OpenLibrary, SystemLibrary).
package cpu

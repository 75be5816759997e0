package cpu

import (
	"fmt"
	"io"
	"log"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/goinception/googlenet/ops"
	"github.com/goinception/googlenet/ops/opstest"
)

func TestMain(m *testing.M) {
	SetLogger(log.New(io.Discard, "", 0)) // no hint lines from tests
	os.Exit(m.Run())
}

// engines returns the configurations every conformance test runs: the
// system BLAS (when found) and the pure-Go GEMM, each with the default
// workers, one worker and more workers than images.
func engines(t testing.TB) map[string]*Engine {
	es := map[string]*Engine{
		"go":          New(Options{PureGo: true}),
		"go/workers1": New(Options{PureGo: true, Workers: 1}),
		"go/workers4": New(Options{PureGo: true, Workers: 4}),
	}
	if lib, err := SystemLibrary(); err == nil {
		es["blas"] = New(Options{Library: lib})
		es["blas/workers1"] = New(Options{Library: lib, Workers: 1})
		es["blas/workers4"] = New(Options{Library: lib, Workers: 4})
	} else {
		t.Logf("no BLAS library, testing the pure-Go GEMM only: %v", err)
	}
	return es
}

func TestConformance(t *testing.T) {
	for name, e := range engines(t) {
		t.Run(name, func(t *testing.T) { opstest.TestEngine(t, e) })
	}
}

// TestOpTable runs every op of a training step, forward and gradient, on
// each CPU engine against the float64 reference (opstest.OpTable).
func TestOpTable(t *testing.T) {
	for name, e := range engines(t) {
		t.Run(name, func(t *testing.T) { opstest.TestOps(t, e) })
	}
}

func randSlice(rng *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(rng.Float64()*2 - 1)
	}
	return v
}

// compare checks got against the float64 sums want with magnitudes mag,
// with the conformance suite's tolerance.
func compare(t *testing.T, what string, got []float32, want, mag []float64) {
	t.Helper()
	bad := 0
	for i, w := range want {
		g := float64(got[i])
		tol := opstest.RelTol*mag[i] + opstest.AbsTol
		if math.IsNaN(g) || math.Abs(g-w) > tol {
			if bad < 3 {
				t.Errorf("%s[%d] = %v, want %v (tolerance %.3g)", what, i, g, w, tol)
			}
			bad++
		}
	}
	if bad > 0 {
		t.Errorf("%s: %d of %d values out of tolerance", what, bad, len(want))
	}
}

// larger is a set of GoogLeNet-shaped geometries, shrunk spatially to keep
// the float64 reference loops fast, that cross the GEMM block sizes.
var larger = []struct {
	name string
	g    ops.ConvGeom
}{
	{"inception_1x1/C192K64", ops.ConvGeom{N: 2, C: 192, H: 7, W: 7, K: 64, R: 1, S: 1, StrideH: 1, StrideW: 1, OutH: 7, OutW: 7}},
	{"inception_1x1/batch1", ops.ConvGeom{N: 1, C: 300, H: 9, W: 5, K: 13, R: 1, S: 1, StrideH: 1, StrideW: 1, OutH: 9, OutW: 5}},
	{"3x3/C96K128", ops.ConvGeom{N: 3, C: 40, H: 6, W: 6, K: 100, R: 3, S: 3, StrideH: 1, StrideW: 1, PadTop: 1, PadLeft: 1, OutH: 6, OutW: 6}},
	{"5x5/batch1", ops.ConvGeom{N: 1, C: 16, H: 7, W: 7, K: 32, R: 5, S: 5, StrideH: 1, StrideW: 1, PadTop: 2, PadLeft: 2, OutH: 7, OutW: 7}},
	{"3x3/batch4/plane100", ops.ConvGeom{N: 4, C: 8, H: 10, W: 10, K: 12, R: 3, S: 3, StrideH: 1, StrideW: 1, PadTop: 1, PadLeft: 1, OutH: 10, OutW: 10}},
	{"conv1/7x7s2", ops.ConvGeom{N: 1, C: 3, H: 40, W: 40, K: 64, R: 7, S: 7, StrideH: 2, StrideW: 2, PadTop: 3, PadLeft: 3, OutH: 20, OutW: 20}},
	// Fewer images than workers: the GEMM is split by output columns
	// when the plane is at least K wide, by output channels otherwise.
	{"1x1/batch1/narrow", ops.ConvGeom{N: 1, C: 50, H: 4, W: 5, K: 70, R: 1, S: 1, StrideH: 1, StrideW: 1, OutH: 4, OutW: 5}},
	{"1x1/batch1/wide", ops.ConvGeom{N: 1, C: 33, H: 11, W: 9, K: 20, R: 1, S: 1, StrideH: 1, StrideW: 1, OutH: 11, OutW: 9}},
	{"3x3/batch1/narrow", ops.ConvGeom{N: 1, C: 20, H: 5, W: 5, K: 40, R: 3, S: 3, StrideH: 1, StrideW: 1, PadTop: 1, PadLeft: 1, OutH: 5, OutW: 5}},
	{"3x3/batch1/wide", ops.ConvGeom{N: 1, C: 7, H: 19, W: 17, K: 9, R: 3, S: 3, StrideH: 1, StrideW: 1, PadTop: 1, PadLeft: 1, OutH: 19, OutW: 17}},
	{"3x3s2/batch1/wide", ops.ConvGeom{N: 1, C: 5, H: 23, W: 22, K: 6, R: 3, S: 3, StrideH: 2, StrideW: 2, PadTop: 1, PadLeft: 1, OutH: 12, OutW: 11}},
}

func TestLargerGeometries(t *testing.T) {
	for _, tc := range larger {
		g := tc.g
		checkConvAgainstRef(t, tc.name, g, rand.New(rand.NewPCG(uint64(g.C), uint64(g.K))), false)
	}
}

// checkConvAgainstRef runs forward (with ReLU), data gradient and filter
// gradient of g on every engine and compares them with the float64
// reference on random data from rng. With nanDx the data gradient's
// buffer starts as NaN, so it must be overwritten, not accumulated into.
func checkConvAgainstRef(t *testing.T, name string, g ops.ConvGeom, rng *rand.Rand, nanDx bool) {
	t.Helper()
	x := randSlice(rng, g.N*g.C*g.H*g.W)
	w := randSlice(rng, g.K*g.C*g.R*g.S)
	b := randSlice(rng, g.K)
	dy := randSlice(rng, g.N*g.K*g.OutH*g.OutW)
	wantY, magY := opstest.RefConvForward(g, x, w, b)
	for i, v := range wantY {
		wantY[i] = math.Max(v, 0)
	}
	wantDx, magDx := opstest.RefConvBackwardData(g, w, dy)
	wantDw, magDw, wantDb, magDb := opstest.RefConvBackwardFilter(g, x, dy)
	for ename, e := range engines(t) {
		t.Run(name+"/"+ename, func(t *testing.T) {
			y := make([]float32, len(wantY))
			e.ConvForward(g, x, w, b, y, true)
			compare(t, "y", y, wantY, magY)
			dx := make([]float32, len(x))
			if nanDx {
				for i := range dx {
					dx[i] = float32(math.NaN())
				}
			}
			e.ConvBackwardData(g, w, dy, dx)
			compare(t, "dx", dx, wantDx, magDx)
			dw := make([]float32, len(w))
			db := make([]float32, g.K)
			e.ConvBackwardFilter(g, x, dy, dw, db)
			compare(t, "dw", dw, wantDw, magDw)
			compare(t, "db", db, wantDb, magDb)
		})
	}
}

// refGemm is C = alpha*op(A)*op(B) + beta*C in float64 loops, returning
// the values and the magnitude sums of their terms.
func refGemm(ta, tb bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) (want, mag []float64) {
	want = make([]float64, m*n)
	mag = make([]float64, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s, sm float64
			for p := 0; p < k; p++ {
				av, bv := float64(a[i*lda+p]), 0.0
				if ta {
					av = float64(a[p*lda+i])
				}
				if tb {
					bv = float64(b[j*ldb+p])
				} else {
					bv = float64(b[p*ldb+j])
				}
				s += av * bv
				sm += math.Abs(av * bv)
			}
			cv := float64(c[i*ldc+j])
			want[i*n+j] = float64(alpha)*s + float64(beta)*cv
			mag[i*n+j] = math.Abs(float64(alpha))*sm + math.Abs(float64(beta)*cv)
		}
	}
	return want, mag
}

// TestGemmBlocks crosses the pure-Go GEMM's block sizes (mc, kc, nc) and the
// parallel split, for every transpose combination.
func TestGemmBlocks(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	sizes := [][3]int{{mc + 7, 2*nr + 3, kc + 5}, {5, nc + 9, 40}, {2*mc + 1, 50, 2*kc + 1}, {1, 1, 600}}
	for name, e := range engines(t) {
		for _, sz := range sizes {
			m, n, k := sz[0], sz[1], sz[2]
			for _, ta := range []bool{false, true} {
				for _, tb := range []bool{false, true} {
					ar, ac := m, k
					if ta {
						ar, ac = k, m
					}
					br, bc := k, n
					if tb {
						br, bc = n, k
					}
					lda, ldb, ldc := ac+1, bc+2, n+3
					a := randSlice(rng, ar*lda)
					b := randSlice(rng, br*ldb)
					// alpha = 1 with beta 0 or 1 takes the kernels that
					// write into C directly.
					for _, ab := range [][2]float32{{0.5, -1}, {1, 0}, {1, 1}} {
						c := randSlice(rng, m*ldc)
						want, mag := refGemm(ta, tb, m, n, k, ab[0], a, lda, b, ldb, ab[1], c, ldc)
						e.Gemm(ta, tb, m, n, k, ab[0], a, lda, b, ldb, ab[1], c, ldc)
						got := make([]float32, m*n)
						for i := 0; i < m; i++ {
							copy(got[i*n:], c[i*ldc:i*ldc+n])
						}
						compare(t, fmt.Sprintf("%s/Gemm(%v,%v,%d,%d,%d,alpha=%v,beta=%v)", name, ta, tb, m, n, k, ab[0], ab[1]), got, want, mag)
					}
				}
			}
		}
	}
}

// TestConcurrentUse runs two goroutines on one engine at once (each call
// itself splits over workers) and checks every result against a serial run.
func TestConcurrentUse(t *testing.T) {
	g := ops.ConvGeom{N: 3, C: 8, H: 9, W: 9, K: 12, R: 3, S: 3, StrideH: 1, StrideW: 1, PadTop: 1, PadLeft: 1, OutH: 9, OutW: 9}
	for name, e := range engines(t) {
		t.Run(name, func(t *testing.T) {
			type job struct{ x, w, dy, y, dx, dw []float32 }
			jobs := make([]job, 2)
			for i := range jobs {
				rng := rand.New(rand.NewPCG(uint64(i), 9))
				j := job{
					x:  randSlice(rng, g.N*g.C*g.H*g.W),
					w:  randSlice(rng, g.K*g.C*g.R*g.S),
					dy: randSlice(rng, g.N*g.K*g.OutH*g.OutW),
				}
				j.y = make([]float32, len(j.dy))
				j.dx = make([]float32, len(j.x))
				j.dw = make([]float32, len(j.w))
				e.ConvForward(g, j.x, j.w, nil, j.y, true)
				e.ConvBackwardData(g, j.w, j.dy, j.dx)
				e.ConvBackwardFilter(g, j.x, j.dy, j.dw, nil)
				jobs[i] = j
			}
			const iters = 20
			const tol = 1e-6 // same inputs, same engine: only the schedule differs
			var wg sync.WaitGroup
			errs := make(chan string, 2*iters)
			for i := range jobs {
				wg.Add(1)
				go func(j job) {
					defer wg.Done()
					y := make([]float32, len(j.y))
					dx := make([]float32, len(j.dx))
					dw := make([]float32, len(j.dw))
					for it := 0; it < iters; it++ {
						e.ConvForward(g, j.x, j.w, nil, y, true)
						e.ConvBackwardData(g, j.w, j.dy, dx)
						e.ConvBackwardFilter(g, j.x, j.dy, dw, nil)
						for _, p := range [][2][]float32{{y, j.y}, {dx, j.dx}, {dw, j.dw}} {
							for k := range p[0] {
								if math.Abs(float64(p[0][k]-p[1][k])) > tol {
									errs <- fmt.Sprintf("iteration %d: value %d = %v, serial run gave %v", it, k, p[0][k], p[1][k])
									return
								}
							}
						}
					}
				}(jobs[i])
			}
			wg.Wait()
			close(errs)
			for msg := range errs {
				t.Error(msg)
			}
		})
	}
}

func TestLoadSystem(t *testing.T) {
	if _, err := loadSystem("go"); err != errForcedGo {
		t.Errorf(`loadSystem("go") error = %v, want errForcedGo`, err)
	}
	if _, err := loadSystem("fastest"); err == nil {
		t.Error(`loadSystem("fastest") succeeded, want an error for an unknown value`)
	}
	if _, err := loadSystem(t.TempDir() + "/libmissing.so"); err == nil {
		t.Error("loading a missing path succeeded")
	}
	if _, err := OpenLibrary("libc.so.6"); err == nil {
		t.Error("libc.so.6 accepted as a CBLAS library")
	}
}

func TestEngineName(t *testing.T) {
	if got := New(Options{PureGo: true}).Name(); got != "cpu/go" {
		t.Errorf("pure-Go engine name %q, want cpu/go", got)
	}
}

func TestBadArgumentsPanic(t *testing.T) {
	e := New(Options{PureGo: true})
	for name, f := range map[string]func(){
		"short C": func() {
			e.Gemm(false, false, 2, 2, 2, 1, make([]float32, 4), 2, make([]float32, 4), 2, 0, make([]float32, 3), 2)
		},
		"small lda": func() {
			e.Gemm(false, false, 2, 2, 2, 1, make([]float32, 4), 1, make([]float32, 4), 2, 0, make([]float32, 4), 2)
		},
		"short y": func() {
			g := ops.ConvGeom{N: 1, C: 1, H: 2, W: 2, K: 1, R: 1, S: 1, OutH: 2, OutW: 2}
			e.ConvForward(g, make([]float32, 4), make([]float32, 1), nil, make([]float32, 3), false)
		},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}

// TestBiasRow checks the (vectorized) epilogue against its portable loop,
// over lengths with and without a tail, with NaN and negative zero inputs.
func TestBiasRow(t *testing.T) {
	const tol = 1e-7 // one float32 addition either way
	rng := rand.New(rand.NewPCG(11, 12))
	nan := float32(math.NaN())
	for n := 0; n <= 35; n++ {
		for _, relu := range []bool{false, true} {
			row := randSlice(rng, n)
			if n > 3 {
				row[1], row[3] = nan, float32(math.Copysign(0, -1))
			}
			got := append([]float32(nil), row...)
			want := append([]float32(nil), row...)
			biasRow(got, 0.25, relu)
			biasRowGo(want, 0.25, relu)
			for i := range want {
				g, w := float64(got[i]), float64(want[i])
				if math.IsNaN(w) != math.IsNaN(g) || math.Abs(g-w) > tol || (relu && (math.IsNaN(g) || g < 0)) {
					t.Errorf("n=%d relu=%v: [%d] = %v, want %v", n, relu, i, g, w)
				}
			}
		}
	}
}

func TestOpenSystemHint(t *testing.T) {
	saved := DefaultLibraries
	defer func() { DefaultLibraries = saved }()
	DefaultLibraries = []string{t.TempDir() + "/libnothere.so"} // an auto search that fails
	for _, tc := range []struct {
		env, wantLog string
	}{
		{"", Hint},
		{"auto", Hint},
		{"go", ""},
		{"/nonexistent/libopenblas.so", "cpu: open /nonexistent/libopenblas.so"},
		{"fastest", `GOOGLENET_BLAS="fastest"`},
	} {
		var logged []string
		lib, err := openSystem(tc.env, func(format string, args ...any) { logged = append(logged, fmt.Sprintf(format, args...)) })
		if lib != nil || err == nil {
			t.Errorf("env %q: got library %v, error %v; want no library and an error", tc.env, lib, err)
		}
		switch {
		case tc.wantLog == "" && len(logged) > 0:
			t.Errorf("env %q: logged %q, want nothing", tc.env, logged)
		case tc.wantLog != "" && (len(logged) != 1 || !strings.Contains(logged[0], tc.wantLog)):
			t.Errorf("env %q: logged %q, want one line containing %q", tc.env, logged, tc.wantLog)
		}
	}
}

func TestSetLogger(t *testing.T) {
	defer SetLogger(nil)
	var buf strings.Builder
	SetLogger(log.New(&buf, "", 0))
	logf("%s", Hint)
	if got := buf.String(); got != Hint+"\n" {
		t.Errorf("logged %q, want %q", got, Hint+"\n")
	}
}

// TestNoLargeAllocations checks that after a warm-up call the convolution
// kernels reuse their scratch buffers: what a call allocates (goroutine
// bookkeeping) is far below the size of one im2col buffer.
func TestNoLargeAllocations(t *testing.T) {
	g := ops.ConvGeom{N: 4, C: 16, H: 20, W: 20, K: 24, R: 3, S: 3, StrideH: 1, StrideW: 1, PadTop: 1, PadLeft: 1, OutH: 20, OutW: 20}
	colBytes := 4 * g.C * g.R * g.S * g.OutH * g.OutW // 230 KB
	// A buffer allocated per call would show as >= colBytes per call; a few
	// one-off allocations while free lists grow (how many calls overlap is
	// up to the scheduler) stay below this bound over the measured calls.
	maxBytesPerCall := colBytes / 8
	rng := rand.New(rand.NewPCG(13, 14))
	x := randSlice(rng, g.N*g.C*g.H*g.W)
	w := randSlice(rng, g.K*g.C*g.R*g.S)
	dy := randSlice(rng, g.N*g.K*g.OutH*g.OutW)
	y := make([]float32, len(dy))
	dx := make([]float32, len(x))
	dw := make([]float32, len(w))
	db := make([]float32, g.K)
	// How many GEMMs overlapped during warm-up is up to the scheduler: give
	// the packing free list enough buffers for every worker up front.
	for i := 0; i < 8; i++ {
		putPackBuf(new(packBuf))
	}
	for name, e := range engines(t) {
		step := func() {
			e.ConvForward(g, x, w, db, y, true)
			e.ConvBackwardData(g, w, dy, dx)
			e.ConvBackwardFilter(g, x, dy, dw, db)
		}
		// Warm-up fills the free lists. How many workers hold buffers at
		// once depends on when the helpers start (a caller whose helper is
		// late runs the helper's share itself, with its own buffer), so
		// the lists reach their size over several calls.
		for i := 0; i < 10; i++ {
			step()
		}
		var before, after runtime.MemStats
		const calls = 20
		runtime.ReadMemStats(&before)
		for i := 0; i < calls; i++ {
			step()
		}
		runtime.ReadMemStats(&after)
		perCall := int(after.TotalAlloc-before.TotalAlloc) / (3 * calls)
		t.Logf("%s: %d bytes allocated per call", name, perCall)
		if perCall > maxBytesPerCall {
			t.Errorf("%s: %d bytes allocated per call, want at most %d (an im2col buffer is %d)", name, perCall, maxBytesPerCall, colBytes)
		}
	}
}

// TestOpenLibraryLeavesEnvironment checks that OPENBLAS_NUM_THREADS, set
// only while the library loads, is gone afterwards.
func TestOpenLibraryLeavesEnvironment(t *testing.T) {
	if _, set := os.LookupEnv("OPENBLAS_NUM_THREADS"); set {
		t.Skip("OPENBLAS_NUM_THREADS set by the caller")
	}
	lib, err := OpenLibrary(DefaultLibraries[0])
	if err != nil {
		t.Skipf("no OpenBLAS: %v", err)
	}
	if v, set := os.LookupEnv("OPENBLAS_NUM_THREADS"); set {
		t.Errorf("OPENBLAS_NUM_THREADS=%q left in the environment", v)
	}
	if n := lib.Threads(); n < 1 {
		t.Errorf("Threads() = %d, want >= 1", n)
	}
}

// TestRepeatable checks the documented promise that two runs with the same
// backend and workers give the same bits (training resumes rely on it).
func TestRepeatable(t *testing.T) {
	g := ops.ConvGeom{N: 5, C: 7, H: 11, W: 11, K: 20, R: 3, S: 3, StrideH: 1, StrideW: 1, PadTop: 1, PadLeft: 1, OutH: 11, OutW: 11}
	rng := rand.New(rand.NewPCG(31, 32))
	x := randSlice(rng, g.N*g.C*g.H*g.W)
	w := randSlice(rng, g.K*g.C*g.R*g.S)
	dy := randSlice(rng, g.N*g.K*g.OutH*g.OutW)
	run := func(e *Engine) [][]float32 {
		y, dx, dw := make([]float32, len(dy)), make([]float32, len(x)), make([]float32, len(w))
		e.ConvForward(g, x, w, nil, y, true)
		e.ConvBackwardData(g, w, dy, dx)
		e.ConvBackwardFilter(g, x, dy, dw, nil)
		return [][]float32{y, dx, dw}
	}
	for name, e := range engines(t) {
		a, b := run(e), run(e)
		for i := range a {
			for j := range a[i] {
				if math.Float32bits(a[i][j]) != math.Float32bits(b[i][j]) {
					t.Fatalf("%s: output %d differs at %d between runs: %v, %v", name, i, j, a[i][j], b[i][j])
				}
			}
		}
	}
}

// TestTiledIm2col forces tiny im2col tiles (row blocks of one to a few
// output rows, an uneven last block) and checks forward, data gradient and
// filter gradient against the float64 reference, with padding, stride 2
// (conv1's gather) and stride 3 (the general strided gather).
func TestTiledIm2col(t *testing.T) {
	defer func(v int) { tileElems = v }(tileElems)
	geoms := []ops.ConvGeom{
		{N: 3, C: 5, H: 13, W: 11, K: 9, R: 3, S: 3, StrideH: 1, StrideW: 1, PadTop: 1, PadLeft: 1, OutH: 13, OutW: 11},
		{N: 2, C: 3, H: 23, W: 21, K: 16, R: 7, S: 7, StrideH: 2, StrideW: 2, PadTop: 3, PadLeft: 3, OutH: 12, OutW: 11},
		{N: 2, C: 4, H: 17, W: 16, K: 6, R: 5, S: 4, StrideH: 3, StrideW: 3, PadTop: 2, PadLeft: 1, OutH: 6, OutW: 5},
	}
	for _, elems := range []int{1, 200, 1000} {
		tileElems = elems
		for gi, g := range geoms {
			if q := newGeom(g); elems < q.crs*q.ohw && len(q.tiles()) < 2 {
				t.Fatalf("tileElems %d: geometry %d is not tiled", elems, gi)
			}
			checkConvAgainstRef(t, fmt.Sprintf("tile%d/geom%d", elems, gi), g, rand.New(rand.NewPCG(uint64(gi), uint64(elems))), true)
		}
	}
}

// TestPhasedIm2col checks that im2col from column phases (strided
// convolutions) writes the same columns as the direct gather, bit for bit,
// for strides 2 and 3, odd and even widths, padding on either side and
// every row block.
func TestPhasedIm2col(t *testing.T) {
	geoms := []ops.ConvGeom{
		{N: 1, C: 3, H: 24, W: 24, K: 1, R: 7, S: 7, StrideH: 2, StrideW: 2, PadTop: 3, PadLeft: 3, OutH: 12, OutW: 12},
		{N: 1, C: 2, H: 9, W: 11, K: 1, R: 3, S: 4, StrideH: 2, StrideW: 2, PadTop: 0, PadLeft: 1, OutH: 4, OutW: 5},
		{N: 1, C: 2, H: 10, W: 13, K: 1, R: 5, S: 5, StrideH: 3, StrideW: 3, PadTop: 2, PadLeft: 2, OutH: 4, OutW: 5},
	}
	rng := rand.New(rand.NewPCG(8, 9))
	for gi, g := range geoms {
		q := newGeom(g)
		e := New(Options{PureGo: true})
		x := randSlice(rng, q.chw)
		ph := e.phaseBuf(q)
		if ph == nil {
			t.Fatalf("geometry %d: no phase buffer for stride %d", gi, q.sw)
		}
		phases(q, x, ph, 0, g.C)
		for oh0 := 0; oh0 < g.OutH; oh0++ {
			for oh1 := oh0 + 1; oh1 <= g.OutH; oh1++ {
				n := q.crs * (oh1 - oh0) * g.OutW
				want, got := make([]float32, n), make([]float32, n)
				for i := range got {
					got[i] = float32(math.NaN())
				}
				im2col(q, x, nil, want, 0, g.C, oh0, oh1)
				im2col(q, x, ph, got, 0, g.C, oh0, oh1)
				for i := range want {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) { // copies: the same bits
						t.Fatalf("geometry %d rows [%d,%d): col[%d] = %v, want %v", gi, oh0, oh1, i, got[i], want[i])
					}
				}
			}
		}
	}
}

// TestSum32 compares the eight-way partial sums with a float64 sum, for
// lengths around the blocks of eight.
func TestSum32(t *testing.T) {
	rng := rand.New(rand.NewPCG(14, 15))
	for _, n := range []int{0, 1, 7, 8, 9, 16, 23, 1000} {
		v := randSlice(rng, n)
		var want, mag float64
		for _, x := range v {
			want += float64(x)
			mag += math.Abs(float64(x))
		}
		if got := float64(sum32(v)); math.Abs(got-want) > opstest.RelTol*mag+opstest.AbsTol {
			t.Errorf("n=%d: sum32 = %v, want %v", n, got, want)
		}
	}
}

// TestImageAloneMatchesBatch checks that a convolution gives an image bit
// for bit the same output alone (fewer images than workers: the image's
// own work is split) as in a batch (whole images per worker), for every
// path: pointwise, im2col in one piece, im2col in row tiles, strided.
// Package serve's guarantee that batching never changes an answer rests
// on it.
func TestImageAloneMatchesBatch(t *testing.T) {
	defer func(v int) { tileElems = v }(tileElems)
	tileElems = 600
	geoms := []ops.ConvGeom{
		{N: 3, C: 33, H: 11, W: 9, K: 20, R: 1, S: 1, StrideH: 1, StrideW: 1, OutH: 11, OutW: 9},
		{N: 3, C: 50, H: 4, W: 5, K: 70, R: 1, S: 1, StrideH: 1, StrideW: 1, OutH: 4, OutW: 5},
		{N: 3, C: 7, H: 19, W: 17, K: 9, R: 3, S: 3, StrideH: 1, StrideW: 1, PadTop: 1, PadLeft: 1, OutH: 19, OutW: 17},
		{N: 3, C: 3, H: 5, W: 5, K: 40, R: 3, S: 3, StrideH: 1, StrideW: 1, PadTop: 1, PadLeft: 1, OutH: 5, OutW: 5},
		{N: 3, C: 3, H: 40, W: 40, K: 64, R: 7, S: 7, StrideH: 2, StrideW: 2, PadTop: 3, PadLeft: 3, OutH: 20, OutW: 20},
	}
	rng := rand.New(rand.NewPCG(4, 2))
	for gi, g := range geoms {
		q := newGeom(g)
		x := randSlice(rng, g.N*q.chw)
		w := randSlice(rng, g.K*q.crs)
		b := randSlice(rng, g.K)
		for ename, e := range engines(t) {
			if e.nworkers() > g.N {
				continue // the batch itself would be split per image
			}
			batch := make([]float32, g.N*q.kohw)
			e.ConvForward(g, x, w, b, batch, true)
			g1 := g
			g1.N = 1
			for n := 0; n < g.N; n++ {
				alone := make([]float32, q.kohw)
				e.ConvForward(g1, x[n*q.chw:(n+1)*q.chw], w, b, alone, true)
				for i, v := range alone {
					if math.Float32bits(v) != math.Float32bits(batch[n*q.kohw+i]) {
						t.Fatalf("geometry %d, %s, image %d: y[%d] alone %v, in the batch %v", gi, ename, n, i, v, batch[n*q.kohw+i])
					}
				}
			}
		}
	}
}

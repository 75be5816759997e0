package cpu

import (
	"io"
	"log"
	"os"
	"runtime"
	"strings"
	"sync"
	"unsafe"

	"github.com/ebitengine/purego"
	"github.com/pkg/errors"
)

// EnvBLAS names the environment variable that chooses the GEMM backend:
// "go" forces the pure-Go kernels, a path (containing "/") loads that
// library instead of searching, and empty or "auto" searches
// DefaultLibraries.
const EnvBLAS = "GOOGLENET_BLAS"

// DefaultLibraries are the shared libraries tried, in order, when EnvBLAS
// does not name one. Only the 32-bit-integer CBLAS API is used, so the
// 64-bit-integer builds (libopenblas64_) are deliberately absent. The
// reference BLAS (libblas.so.3) is a slow last resort and is used only when
// it exports cblas_sgemm.
var DefaultLibraries = []string{"libopenblas.so.0", "libopenblas.so", "libblas.so.3"}

// Hint is the line logged once per process when the pure-Go GEMM is used
// because no BLAS library was found.
const Hint = "cpu: OpenBLAS not found; apt-get install libopenblas0 for ~10x faster GEMM"

// CBLAS constants (cblas.h).
const (
	cblasRowMajor = 101
	cblasNoTrans  = 111
	cblasTrans    = 112
)

// Library is a CBLAS shared library opened at run time without cgo.
type Library struct {
	// Name is the file name or path the library was opened with.
	Name string

	sgemm func(order, ta, tb, m, n, k int32, alpha float32, a *float32, lda int32, b *float32, ldb int32, beta float32, c *float32, ldc int32)
	dgemm func(order, ta, tb, m, n, k int32, alpha float64, a *float64, lda int32, b *float64, ldb int32, beta float64, c *float64, ldc int32)

	setThreads func(n int32)
	getThreads func() int32

	// sgemmF is the address of the Fortran interface sgemm_ (every
	// argument by reference, so a plain purego.SyscallN calls it without
	// the 12 allocations and about 0.8 µs of a RegisterFunc call), or 0.
	sgemmF uintptr
}

// OpenLibrary opens the CBLAS library name (a file name searched by the
// dynamic loader, or a path) and resolves cblas_sgemm and cblas_dgemm, plus
// openblas_set_num_threads and openblas_get_num_threads when present.
//
// Unless OPENBLAS_NUM_THREADS is set, it is set to 1 while the library
// loads (and removed afterwards): OpenBLAS starts its worker threads when it
// is loaded, and idle they still took 17% of the CPU samples of a pure-Go
// GoogLeNet benchmark on 2 cores; the engine never uses them (see the
// package documentation). SetThreads can still add threads later.
func OpenLibrary(name string) (*Library, error) {
	if _, set := os.LookupEnv("OPENBLAS_NUM_THREADS"); !set {
		os.Setenv("OPENBLAS_NUM_THREADS", "1")
		defer os.Unsetenv("OPENBLAS_NUM_THREADS")
	}
	h, err := purego.Dlopen(name, purego.RTLD_NOW|purego.RTLD_LOCAL)
	if err != nil {
		return nil, errors.Wrapf(err, "cpu: open %s", name)
	}
	lib := &Library{Name: name}
	for _, f := range []struct {
		sym      string
		fptr     any
		required bool
	}{
		{"cblas_sgemm", &lib.sgemm, true},
		{"cblas_dgemm", &lib.dgemm, true},
		{"openblas_set_num_threads", &lib.setThreads, false},
		{"openblas_get_num_threads", &lib.getThreads, false},
	} {
		addr, err := purego.Dlsym(h, f.sym)
		if err != nil || addr == 0 {
			if f.required {
				purego.Dlclose(h)
				return nil, errors.Errorf("cpu: %s does not export %s", name, f.sym)
			}
			continue
		}
		purego.RegisterFunc(f.fptr, addr)
	}
	if addr, err := purego.Dlsym(h, "sgemm_"); err == nil && addr != 0 {
		lib.sgemmF = addr
	}
	return lib, nil
}

// Threads returns OpenBLAS's thread count, or 0 when the library does not
// say (a BLAS other than OpenBLAS).
func (l *Library) Threads() int {
	if l == nil || l.getThreads == nil {
		return 0
	}
	return int(l.getThreads())
}

// SetThreads sets OpenBLAS's thread count (process-wide) when the library
// supports it and reports whether it did.
func (l *Library) SetThreads(n int) bool {
	if l == nil || l.setThreads == nil || n < 1 {
		return false
	}
	l.setThreads(int32(n))
	return true
}

func cblasTranspose(t bool) int32 {
	if t {
		return cblasTrans
	}
	return cblasNoTrans
}

// ptr32 returns the address of s[0], or nil for an empty slice (never read
// by BLAS then, since the matching dimension is 0).
func ptr32(s []float32) *float32 {
	if len(s) == 0 {
		return nil
	}
	return unsafe.SliceData(s)
}

func ptr64(s []float64) *float64 {
	if len(s) == 0 {
		return nil
	}
	return unsafe.SliceData(s)
}

// Sgemm calls cblas_sgemm in row-major order. Arguments are not checked;
// use Engine.Gemm for checked, parallel products. When the library exports
// the Fortran sgemm_, that is called instead (the column-major product
// Cᵀ = op(B)ᵀ op(A)ᵀ is the same memory): it takes no float argument by
// value, so purego.SyscallN can call it without allocating, which matters
// for the many small GEMMs of the Winograd convolution.
func (l *Library) Sgemm(ta, tb bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if l.sgemmF == 0 {
		l.sgemm(cblasRowMajor, cblasTranspose(ta), cblasTranspose(tb), int32(m), int32(n), int32(k),
			alpha, ptr32(a), int32(lda), ptr32(b), int32(ldb), beta, ptr32(c), int32(ldc))
		return
	}
	p := fortranPool.Get().(*fortranArgs)
	p.ta, p.tb = fortranTranspose(tb), fortranTranspose(ta)
	p.m, p.n, p.k = int32(n), int32(m), int32(k)
	p.lda, p.ldb, p.ldc = int32(ldb), int32(lda), int32(ldc)
	p.alpha, p.beta = alpha, beta
	purego.SyscallN(l.sgemmF,
		uintptr(unsafe.Pointer(&p.ta)), uintptr(unsafe.Pointer(&p.tb)),
		uintptr(unsafe.Pointer(&p.m)), uintptr(unsafe.Pointer(&p.n)), uintptr(unsafe.Pointer(&p.k)),
		uintptr(unsafe.Pointer(&p.alpha)),
		uintptr(unsafe.Pointer(ptr32(b))), uintptr(unsafe.Pointer(&p.lda)),
		uintptr(unsafe.Pointer(ptr32(a))), uintptr(unsafe.Pointer(&p.ldb)),
		uintptr(unsafe.Pointer(&p.beta)),
		uintptr(unsafe.Pointer(ptr32(c))), uintptr(unsafe.Pointer(&p.ldc)))
	runtime.KeepAlive(a)
	runtime.KeepAlive(b)
	runtime.KeepAlive(c)
	fortranPool.Put(p)
}

// fortranArgs holds the by-reference arguments of one sgemm_ call, in the
// Fortran (column-major) roles: a and lda are the Go call's b and ldb.
type fortranArgs struct {
	ta, tb        byte
	m, n, k       int32
	lda, ldb, ldc int32
	alpha, beta   float32
}

var fortranPool = sync.Pool{New: func() any { return new(fortranArgs) }}

func fortranTranspose(t bool) byte {
	if t {
		return 'T'
	}
	return 'N'
}

// Dgemm calls cblas_dgemm in row-major order, like Sgemm.
func (l *Library) Dgemm(ta, tb bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	l.dgemm(cblasRowMajor, cblasTranspose(ta), cblasTranspose(tb), int32(m), int32(n), int32(k),
		alpha, ptr64(a), int32(lda), ptr64(b), int32(ldb), beta, ptr64(c), int32(ldc))
}

var (
	sysOnce sync.Once
	sysLib  *Library
	sysErr  error
)

// errForcedGo is the load error when EnvBLAS is "go".
var errForcedGo = errors.New("cpu: pure-Go GEMM forced by " + EnvBLAS + "=go")

// SystemLibrary returns the process-wide BLAS library, opening it on first
// use: EnvBLAS decides (see its documentation), otherwise the first of
// DefaultLibraries that opens and exports cblas_sgemm. OpenBLAS is set to one
// thread, because the engine splits work over goroutines itself (see the
// package documentation). The error says why no library is in use; the
// pure-Go GEMM is then used and Hint is logged once.
func SystemLibrary() (*Library, error) {
	sysOnce.Do(func() { sysLib, sysErr = openSystem(os.Getenv(EnvBLAS), logf) })
	return sysLib, sysErr
}

// openSystem loads the library env selects and sets it to one thread. When
// it fails it logs Hint, or the error itself when EnvBLAS named something
// (a path or an invalid value); a forced pure-Go GEMM logs nothing.
func openSystem(env string, logf func(format string, args ...any)) (*Library, error) {
	lib, err := loadSystem(env)
	switch {
	case lib != nil:
		lib.SetThreads(1)
	case err == errForcedGo:
	case strings.TrimSpace(env) == "" || strings.EqualFold(strings.TrimSpace(env), "auto"):
		logf("%s", Hint)
	default:
		logf("%v; using the pure-Go GEMM", err)
	}
	return lib, err
}

func loadSystem(env string) (*Library, error) {
	env = strings.TrimSpace(env)
	switch {
	case strings.EqualFold(env, "go"):
		return nil, errForcedGo
	case strings.Contains(env, "/"):
		return OpenLibrary(env)
	case env != "" && !strings.EqualFold(env, "auto"):
		return nil, errors.Errorf("cpu: %s=%q: want go, auto or a library path", EnvBLAS, env)
	}
	var msgs []string
	for _, name := range DefaultLibraries {
		lib, err := OpenLibrary(name)
		if err == nil {
			return lib, nil
		}
		msgs = append(msgs, err.Error())
	}
	return nil, errors.Errorf("cpu: no CBLAS library found (%s)", strings.Join(msgs, "; "))
}

var (
	logMu  sync.Mutex
	logger = log.New(os.Stderr, "", 0)
)

// SetLogger sets where the package's one-time hints go (standard error by
// default); nil discards them.
func SetLogger(l *log.Logger) {
	logMu.Lock()
	defer logMu.Unlock()
	if l == nil {
		l = log.New(io.Discard, "", 0)
	}
	logger = l
}

func logf(format string, args ...any) {
	logMu.Lock()
	defer logMu.Unlock()
	logger.Printf(format, args...)
}

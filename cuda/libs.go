package cuda

import (
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/ebitengine/purego"
	"github.com/pkg/errors"
)

// This file finds and opens NVIDIA's cuDNN 9 and cuBLAS at run time, with
// dlopen through purego (no cgo, no link-time dependency), and binds the
// entry points Device calls. Both are optional: without them every layer
// runs on our PTX kernels.

// EnvLibs names the environment variable that points at the libraries: a
// directory (or several, separated by ':') searched first, or "none" to
// load neither and run every layer on the PTX kernels.
const EnvLibs = "GOOGLENET_CUDA_LIBS"

// Library file names, newest first. cuDNN 9 is the one whose legacy
// convolution API we bind; cuBLAS 13 and 12 keep the v2 API.
var (
	DNNNames  = []string{"libcudnn.so.9"}
	BLASNames = []string{"libcublas.so.13", "libcublas.so.12", "libcublas.so.11"}
)

// Symbols resolves an entry point of a library to its address.
type Symbols func(name string) (uintptr, error)

// Libraries are the cuDNN and cuBLAS entry points a Device uses. Either may
// be missing (DNN or BLAS false); Notes say what was tried.
type Libraries struct {
	DNNPath, BLASPath string // what was opened ("" when missing)
	DNNVersion        int    // cudnnGetVersion, e.g. 90100
	Notes             []string

	dnn  *dnnAPI
	blas *blasAPI
}

// DNN reports whether cuDNN is loaded.
func (l *Libraries) DNN() bool { return l != nil && l.dnn != nil }

// BLAS reports whether cuBLAS is loaded.
func (l *Libraries) BLAS() bool { return l != nil && l.blas != nil }

// LibraryDirs returns the directories searched before the dynamic
// loader's own path, in order: those named by EnvLibs, then the nvidia/*/lib
// folders of Python's CUDA wheels (nvidia-cudnn-cu12, nvidia-cublas-cu12,
// ...) under the usual site-packages roots, $VIRTUAL_ENV and $CONDA_PREFIX
// included.
func LibraryDirs() []string {
	var dirs []string
	if v := os.Getenv(EnvLibs); v != "" && v != "none" {
		dirs = append(dirs, filepath.SplitList(v)...)
	}
	var roots []string
	for _, env := range []string{"VIRTUAL_ENV", "CONDA_PREFIX"} {
		if v := os.Getenv(env); v != "" {
			roots = append(roots, v+"/lib/python3*/site-packages")
		}
	}
	home, _ := os.UserHomeDir()
	roots = append(roots, "/usr/local/lib/python3*/dist-packages", "/usr/local/lib/python3*/site-packages",
		"/usr/lib/python3/dist-packages", "/usr/lib/python3*/site-packages", "/opt/conda/lib/python3*/site-packages",
		home+"/.local/lib/python3*/site-packages")
	seen := map[string]bool{}
	for _, d := range dirs {
		seen[d] = true
	}
	for _, r := range roots {
		found, _ := filepath.Glob(r + "/nvidia/*/lib")
		sort.Strings(found)
		for _, d := range found {
			if !seen[d] {
				seen[d] = true
				dirs = append(dirs, d)
			}
		}
	}
	return dirs
}

// candidates returns the paths to try for one library: each name in each
// directory that has it, then each bare name (the loader's path).
func candidates(dirs, names []string) []string {
	var c []string
	for _, d := range dirs {
		for _, n := range names {
			if st, err := os.Stat(filepath.Join(d, n)); err == nil && !st.IsDir() {
				c = append(c, filepath.Join(d, n))
			}
		}
	}
	return append(c, names...)
}

// openFirst dlopens the first candidate that loads and returns its path
// and a symbol resolver; tried lists what failed.
func openFirst(cands []string) (path string, sym Symbols, tried []string) {
	for _, c := range cands {
		// cuBLAS needs cuBLASLt and cuDNN loads its sub-libraries by name:
		// preloading the siblings in the same directory globally lets a
		// wheel's folder work without LD_LIBRARY_PATH.
		if dir := filepath.Dir(c); dir != "." {
			preloadSiblings(dir)
		}
		h, err := purego.Dlopen(c, purego.RTLD_NOW|purego.RTLD_GLOBAL)
		if err != nil {
			tried = append(tried, c+": "+err.Error())
			continue
		}
		return c, func(name string) (uintptr, error) { return purego.Dlsym(h, name) }, tried
	}
	return "", nil, tried
}

var preloaded sync.Map

// preloadSiblings opens cuBLASLt from dir, when there, so that cuBLAS in
// the same directory finds it.
func preloadSiblings(dir string) {
	for _, n := range []string{"libcublasLt.so.13", "libcublasLt.so.12", "libcublasLt.so.11"} {
		p := filepath.Join(dir, n)
		if _, done := preloaded.Load(p); done {
			continue
		}
		if _, err := os.Stat(p); err == nil {
			_, _ = purego.Dlopen(p, purego.RTLD_NOW|purego.RTLD_GLOBAL)
			preloaded.Store(p, true)
		}
	}
}

var (
	loadOnce sync.Once
	loaded   *Libraries
)

// LoadLibraries is FindLibraries once per process: the libraries stay
// loaded.
func LoadLibraries() *Libraries {
	loadOnce.Do(func() { loaded = FindLibraries() })
	return loaded
}

// FindLibraries finds and opens cuDNN and cuBLAS (see EnvLibs and
// LibraryDirs) and returns what it found; a library that is missing, or
// lacks an entry point we call, is left out with a note saying what was
// tried. It never fails: the PTX kernels cover everything.
func FindLibraries() *Libraries {
	l := &Libraries{}
	if runtime.GOOS != "linux" {
		l.Notes = append(l.Notes, "cuDNN and cuBLAS are loaded on Linux only")
		return l
	}
	if os.Getenv(EnvLibs) == "none" {
		l.Notes = append(l.Notes, EnvLibs+"=none: cuDNN and cuBLAS not loaded")
		return l
	}
	dirs := LibraryDirs()
	if p, sym, tried := openFirst(candidates(dirs, DNNNames)); sym == nil {
		l.Notes = append(l.Notes, "cuDNN 9 not found (tried "+strings.Join(tried, "; ")+")")
	} else if err := l.BindDNN(p, sym); err != nil {
		l.Notes = append(l.Notes, err.Error())
	}
	if p, sym, tried := openFirst(candidates(dirs, BLASNames)); sym == nil {
		l.Notes = append(l.Notes, "cuBLAS not found (tried "+strings.Join(tried, "; ")+")")
	} else if err := l.BindBLAS(p, sym); err != nil {
		l.Notes = append(l.Notes, err.Error())
	}
	return l
}

// bind resolves each named entry point into its function variable.
func bind(lib string, sym Symbols, fns map[string]any) error {
	names := make([]string, 0, len(fns))
	for n := range fns {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		addr, err := sym(n)
		if err != nil || addr == 0 {
			return errors.Errorf("cuda: %s has no entry point %s", lib, n)
		}
		purego.RegisterFunc(fns[n], addr)
	}
	return nil
}

// BindDNN binds cuDNN's entry points from sym (a library opened at path,
// or the emulation's fake) into l.
func (l *Libraries) BindDNN(path string, sym Symbols) error {
	a := &dnnAPI{}
	if err := bind(path, sym, a.table()); err != nil {
		return err
	}
	v := int(a.getVersion())
	if v < 90000 || v >= 100000 {
		return errors.Errorf("cuda: %s is cuDNN %d; the legacy API bound here is cuDNN 9's", path, v)
	}
	l.dnn, l.DNNPath, l.DNNVersion = a, path, v
	return nil
}

// BindBLAS binds cuBLAS's entry points from sym into l.
func (l *Libraries) BindBLAS(path string, sym Symbols) error {
	a := &blasAPI{}
	if err := bind(path, sym, a.table()); err != nil {
		return err
	}
	l.blas, l.BLASPath = a, path
	return nil
}

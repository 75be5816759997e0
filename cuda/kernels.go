package cuda

import (
	"embed"
	"sort"
	"strings"

	"github.com/pkg/errors"
)

//go:generate ../scripts/cuda-ptx.sh

// ptxFS holds the PTX that scripts/cuda-ptx.sh compiles from kernels/*.cu
// (nvcc 11.8, -arch=compute_70; the driver JIT-compiles it for the GPU).
//
//go:embed kernels/*.ptx
var ptxFS embed.FS

// PTX returns the embedded PTX of module name (e.g. "gemm").
func PTX(module string) (string, error) {
	b, err := ptxFS.ReadFile("kernels/" + module + ".ptx")
	if err != nil {
		return "", errors.Wrapf(err, "cuda: no PTX module %q", module)
	}
	return string(b), nil
}

// Modules returns the names of the embedded PTX modules, sorted.
func Modules() []string {
	ents, _ := ptxFS.ReadDir("kernels")
	var names []string
	for _, e := range ents {
		names = append(names, strings.TrimSuffix(e.Name(), ".ptx"))
	}
	sort.Strings(names)
	return names
}

// Kernels maps each kernel entry point to its module.
var Kernels = map[string]string{
	"im2col": "conv", "col2im": "conv",
	"sgemm": "gemm", "sgemm_128": "gemm",
	"maxpool_fwd": "pool", "maxpool_bwd": "pool", "avgpool_fwd": "pool", "avgpool_bwd": "pool",
	"adaptive_avg_fwd": "pool", "adaptive_avg_bwd": "pool",
	"lrn_fwd": "lrn", "lrn_bwd": "lrn",
	"relu_bwd": "misc", "relu_bwd_view": "misc", "channel_copy": "misc", "axpy": "misc", "fill": "misc",
	"bias_grad": "misc", "softmax_xent": "misc", "sgd_momentum": "misc", "dropout": "misc",
	"bn_stats": "bn", "bn_apply": "bn", "bn_running": "bn", "bn_invstd": "bn", "bn_bwd_reduce": "bn",
	"bn_bwd_data": "bn",
}

// threads is THREADS in kernels/common.cuh: the block size of 1-D kernels
// and of the block reductions.
const threads = 256

// maxBlocks1D caps the grid of grid-stride kernels.
const maxBlocks1D = 1 << 16

// launch1D builds a grid-stride launch over n elements.
func launch1D(kernel string, n int, args ...Arg) Launch {
	blocks := min(max((n+threads-1)/threads, 1), maxBlocks1D)
	return Launch{Module: Kernels[kernel], Kernel: kernel,
		Grid: Dim3{blocks, 1, 1}, Block: Dim3{threads, 1, 1}, Args: args}
}

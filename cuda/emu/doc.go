// Package emu runs the CUDA kernels of cuda/kernels on the CPU, so that
// their indexing, launch geometry and argument marshalling are tested by
// plain `go test ./cuda/...` on machines without a GPU.
//
// # How
//
// The kernel sources are compiled as host C++ under a small shim (shim.h):
// __global__ and __device__ vanish, __shared__ becomes static storage,
// threadIdx and blockIdx are thread-locals, and a launch loops over the
// grid. Kernels that call __syncthreads (the tiled GEMM and the block
// reductions) run each block's threads as fibers that __syncthreads
// switches between in rounds, so barriers are honoured and a missing one
// fails deterministically (a thread reads shared memory its block-mates
// have not written yet).
//
// Executor implements cuda.Executor on host memory: buffers carry guard
// zones checked after every launch (an out-of-bounds write is an error),
// new buffers are filled with NaN, and launches go through the same
// cuda.Launch values, with the same 8-byte parameter slots, as
// cuLaunchKernel on a GPU.
//
// # Build
//
// The package needs cgo and a C++17 compiler. With CGO_ENABLED=0 it holds
// only this documentation and its tests skip.
package emu

// shim.h: just enough of CUDA C to compile the kernels in ../kernels as
// host C++ and run them on the CPU, for the emulation tests.
//
//   - __global__ and __device__ expand to nothing; __shared__ to static, so a
//     block's shared arrays are one per process. Blocks run one after another
//     (never two at once), so that is the per-block storage CUDA gives.
//   - threadIdx and blockIdx are thread_local; blockDim and gridDim are
//     process-wide (launches are serialised by a mutex).
//   - Kernels without barriers run every thread of every block in turn on
//     the calling thread. Kernels that call __syncthreads run each block's
//     threads as fibers (ucontext) that __syncthreads switches between, in
//     rounds, so a barrier is honoured: no thread passes it before all
//     reached it. A missing barrier shows deterministically: thread 0 then
//     reads shared memory the others have not written yet.
#ifndef GOOGLENET_EMU_SHIM_H
#define GOOGLENET_EMU_SHIM_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

struct dim3 {
	unsigned x, y, z;
};

extern thread_local dim3 threadIdx;
extern thread_local dim3 blockIdx;
extern dim3 blockDim;
extern dim3 gridDim;
void emu_sync(void);

#define __global__
#define __device__
#define __shared__ static
#define __syncthreads() emu_sync()

#endif

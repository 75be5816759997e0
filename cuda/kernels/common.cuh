// common.cuh: definitions shared by every kernel file.
//
// The kernels are plain CUDA C with C linkage (unmangled names in the PTX).
// They are compiled twice: by nvcc to PTX for the GPU, and by the host C++
// compiler under cuda/emu/shim.h for the CPU emulation tests; nothing here
// may depend on anything the shim does not provide.
#ifndef GOOGLENET_COMMON_CUH
#define GOOGLENET_COMMON_CUH

#define KERNEL extern "C" __global__

// Threads per block of the one-dimensional elementwise kernels.
#define THREADS 256

// gid is the global linear index of a thread in a 1-D launch; the grid
// may be smaller than the problem, so kernels loop with gstride.
#define gid() ((long long)blockIdx.x * blockDim.x + threadIdx.x)
#define gstride() ((long long)gridDim.x * blockDim.x)

#endif

// emu.cc: runs the CUDA kernels of ../kernels on the CPU (see shim.h) and
// dispatches launches by kernel name with cuLaunchKernel's argument
// convention: one 8-byte slot per parameter, read as the parameter's type.
#include "shim.h"

#include <mutex>
#include <string.h>
#include <thread>
#include <utility>
#include <vector>

thread_local dim3 threadIdx;
thread_local dim3 blockIdx;
dim3 blockDim;
dim3 gridDim;
pthread_barrier_t emu_barrier;

#include "../kernels/conv.cu"
#include "../kernels/gemm.cu"
#include "../kernels/lrn.cu"
#include "../kernels/misc.cu"
#include "../kernels/pool.cu"

#include "emu.h"

namespace {

std::mutex launch_mu;

// set_block sets blockIdx to linear block b (x fastest).
void set_block(unsigned long long b)
{
	blockIdx.x = (unsigned)(b % gridDim.x);
	blockIdx.y = (unsigned)((b / gridDim.x) % gridDim.y);
	blockIdx.z = (unsigned)(b / ((unsigned long long)gridDim.x * gridDim.y));
}

void set_thread(unsigned t)
{
	threadIdx.x = t % blockDim.x;
	threadIdx.y = (t / blockDim.x) % blockDim.y;
	threadIdx.z = t / (blockDim.x * blockDim.y);
}

template <typename F> void launch(bool barriers, F body)
{
	unsigned long long nblocks = (unsigned long long)gridDim.x * gridDim.y * gridDim.z;
	unsigned nthreads = blockDim.x * blockDim.y * blockDim.z;
	if (!barriers) {
		for (unsigned long long b = 0; b < nblocks; b++) {
			set_block(b);
			for (unsigned t = 0; t < nthreads; t++) {
				set_thread(t);
				body();
			}
		}
		return;
	}
	pthread_barrier_init(&emu_barrier, NULL, nthreads);
	std::vector<std::thread> ts;
	ts.reserve(nthreads);
	for (unsigned t = 0; t < nthreads; t++) {
		ts.emplace_back([t, nblocks, &body] {
			set_thread(t);
			for (unsigned long long b = 0; b < nblocks; b++) {
				set_block(b);
				body();
				// No thread may start the next block (and overwrite the
				// shared arrays) before all have finished this one.
				pthread_barrier_wait(&emu_barrier);
			}
		});
	}
	for (auto &th : ts)
		th.join();
	pthread_barrier_destroy(&emu_barrier);
}

// call unpacks the slots into the kernel's parameters.
template <typename... P, size_t... I>
void call(void (*k)(P...), uint64_t *slots, std::index_sequence<I...>)
{
	k(*reinterpret_cast<P *>(&slots[I])...);
}

template <typename... P> int run(void (*k)(P...), bool barriers, uint64_t *slots, int nslots)
{
	if (nslots != (int)sizeof...(P))
		return -2;
	launch(barriers, [&] { call(k, slots, std::index_sequence_for<P...>{}); });
	return 0;
}

} // namespace

extern "C" int emu_launch(const char *name, unsigned gx, unsigned gy, unsigned gz, unsigned bx,
                          unsigned by, unsigned bz, uint64_t *slots, int nslots)
{
	std::lock_guard<std::mutex> lock(launch_mu);
	gridDim = dim3{gx, gy, gz};
	blockDim = dim3{bx, by, bz};
#define K(fn, barriers)                                                                          \
	if (strcmp(name, #fn) == 0)                                                              \
		return run(fn, barriers, slots, nslots);
	K(im2col, false)
	K(col2im, false)
	K(sgemm, true)
	K(sgemm_128, true)
	K(maxpool_fwd, false)
	K(maxpool_bwd, false)
	K(avgpool_fwd, false)
	K(avgpool_bwd, false)
	K(lrn_fwd, false)
	K(lrn_bwd, false)
	K(relu_bwd, false)
	K(channel_copy, false)
	K(axpy, false)
	K(fill, false)
	K(bias_grad, true)
	K(softmax_xent, true)
	K(sgd_momentum, false)
	K(dropout, false)
#undef K
	return -1;
}

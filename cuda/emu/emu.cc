// emu.cc: runs the CUDA kernels of ../kernels on the CPU (see shim.h) and
// dispatches launches by kernel name with cuLaunchKernel's argument
// convention: one 8-byte slot per parameter, read as the parameter's type.
#include "shim.h"

#include <mutex>
#include <string.h>
#include <ucontext.h>
#include <utility>
#include <vector>

thread_local dim3 threadIdx;
thread_local dim3 blockIdx;
dim3 blockDim;
dim3 gridDim;

#include "../kernels/bn.cu"
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

// Kernels with barriers run each block's threads as fibers (ucontext) on
// the calling thread. __syncthreads switches back to the scheduler, which
// runs the block's fibers round-robin: in round k every fiber runs from its
// barrier k-1 to its barrier k (or to its end), so no fiber passes a
// barrier before all have reached it, and shared memory written before a
// barrier is seen after it. A missing barrier is caught deterministically:
// fiber 0 then reads shared memory its block-mates have not written yet.

constexpr size_t fiber_stack = 64 * 1024;

struct fiber {
	ucontext_t ctx;
	std::vector<char> stack;
	bool done;
};

ucontext_t sched_ctx;
std::vector<fiber> fibers;
unsigned cur_fiber;
void (*fiber_body)(void *);
void *fiber_arg;

void fiber_entry()
{
	fiber_body(fiber_arg);
	fibers[cur_fiber].done = true;
	// Returning resumes uc_link, the scheduler.
}

template <typename F> void call_body(void *f) { (*static_cast<F *>(f))(); }

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
	if (fibers.size() < nthreads)
		fibers.resize(nthreads);
	fiber_body = call_body<F>;
	// body outlives every fiber: they all finish before launch returns,
	// and fiber_arg is cleared then.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpragmas"
#pragma GCC diagnostic ignored "-Wdangling-pointer"
#endif
	fiber_arg = &body;
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
	for (unsigned long long b = 0; b < nblocks; b++) {
		set_block(b);
		for (unsigned t = 0; t < nthreads; t++) {
			fiber &f = fibers[t];
			if (f.stack.empty())
				f.stack.resize(fiber_stack);
			getcontext(&f.ctx);
			f.ctx.uc_stack.ss_sp = f.stack.data();
			f.ctx.uc_stack.ss_size = f.stack.size();
			f.ctx.uc_link = &sched_ctx;
			makecontext(&f.ctx, fiber_entry, 0);
			f.done = false;
		}
		for (bool again = true; again;) {
			again = false;
			for (unsigned t = 0; t < nthreads; t++) {
				if (fibers[t].done)
					continue;
				cur_fiber = t;
				set_thread(t);
				swapcontext(&sched_ctx, &fibers[t].ctx);
				again = again || !fibers[t].done;
			}
		}
	}
	fiber_arg = nullptr;
}

} // namespace

// emu_sync is __syncthreads: back to the scheduler until the next round.
void emu_sync() { swapcontext(&fibers[cur_fiber].ctx, &sched_ctx); }

namespace {

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
	K(adaptive_avg_fwd, false)
	K(adaptive_avg_bwd, false)
	K(lrn_fwd, false)
	K(lrn_bwd, false)
	K(relu_bwd, false)
	K(relu_bwd_view, false)
	K(channel_copy, false)
	K(axpy, false)
	K(fill, false)
	K(bias_grad, true)
	K(softmax_xent, true)
	K(sgd_momentum, false)
	K(dropout, false)
	K(bn_stats, true)
	K(bn_apply, false)
	K(bn_running, false)
	K(bn_invstd, false)
	K(bn_bwd_reduce, true)
	K(bn_bwd_data, false)
#undef K
	return -1;
}

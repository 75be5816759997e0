// misc.cu: the small kernels of a training step: ReLU backward, channel
// concat/split, accumulation, fill, bias gradient, softmax cross-entropy and
// the SGD momentum update.
#include "common.cuh"

// relu_bwd: dx = dy where the ReLU output y is positive, else 0.
KERNEL void relu_bwd(const float *y, const float *dy, float *dx, long long n)
{
	for (long long t = gid(); t < n; t += gstride())
		dx[t] = y[t] > 0.0f ? dy[t] : 0.0f;
}

// relu_bwd_view: ReLU backward where y and dy are a channel slice of a
// wider NCHW tensor (image stride ystride elements, e.g. one branch of an
// Inception module's concatenated output) and dz is contiguous [N][nch][HW]:
// dz[n][c][p] = y[n*ystride + c*HW + p] > 0 ? dy[same] : 0.
KERNEL void relu_bwd_view(const float *y, const float *dy, float *dz, int N, int nch, int HW,
                          long long ystride)
{
	long long total = (long long)N * nch * HW;
	for (long long t = gid(); t < total; t += gstride()) {
		long long per = (long long)nch * HW;
		long long o = (t / per) * ystride + t % per;
		dz[t] = y[o] > 0.0f ? dy[o] : 0.0f;
	}
}

// channel_copy copies nch channels of every image between NCHW tensors with
// different channel counts: dst[n][dstOff+c][p] = src[n][srcOff+c][p].
// Concatenation is one call per input (srcOff 0); its backward, the split,
// is one call per input (dstOff 0).
KERNEL void channel_copy(const float *src, int srcC, int srcOff, float *dst, int dstC, int dstOff,
                         int nch, int N, int HW)
{
	long long total = (long long)N * nch * HW;
	for (long long t = gid(); t < total; t += gstride()) {
		long long p = t % HW;
		int c = (int)((t / HW) % nch);
		long long n = t / ((long long)HW * nch);
		dst[(n * dstC + dstOff + c) * HW + p] = src[(n * srcC + srcOff + c) * HW + p];
	}
}

// axpy: y += a*x (gradient accumulation where activations fan out).
KERNEL void axpy(float a, const float *x, float *y, long long n)
{
	for (long long t = gid(); t < n; t += gstride())
		y[t] += a * x[t];
}

// fill: x = v.
KERNEL void fill(float *x, float v, long long n)
{
	for (long long t = gid(); t < n; t += gstride())
		x[t] = v;
}

// bias_grad: db[k] = sum_{n,p} dy[n][k][p] (overwrites db). One block per
// channel k (gridDim.x = K), THREADS threads reduce in shared memory.
KERNEL void bias_grad(const float *dy, float *db, int N, int K, int HW)
{
	__shared__ float part[THREADS];
	int k = blockIdx.x;
	if (k >= K)
		return; // uniform across the block: no barrier is skipped by part of it
	float s = 0.0f;
	long long per = (long long)N * HW;
	for (long long e = threadIdx.x; e < per; e += blockDim.x) {
		long long n = e / HW, p = e % HW;
		s += dy[(n * K + k) * HW + p];
	}
	part[threadIdx.x] = s;
	__syncthreads();
	for (int h = blockDim.x / 2; h > 0; h /= 2) {
		if ((int)threadIdx.x < h)
			part[threadIdx.x] += part[threadIdx.x + h];
		__syncthreads();
	}
	if (threadIdx.x == 0)
		db[k] = part[0];
}

// softmax_xent: one block per row n of logits [N][K] (gridDim.x = N,
// blockDim.x = THREADS). Writes the row's loss -log softmax(logits)[label]
// (computed with log-sum-exp) to loss[n], and
//   grad[n][j] = gradScale * (softmax(logits)[j] - (j == label))
// (gradScale = 1/N for a batch-mean loss). A label outside [0, K) gives a
// NaN loss and NaN gradients, so the host can report it.
KERNEL void softmax_xent(const float *logits, const int *labels, float *loss, float *grad,
                         int N, int K, float gradScale)
{
	__shared__ float red[THREADS];
	int n = blockIdx.x;
	if (n >= N)
		return; // uniform across the block
	const float *z = logits + (long long)n * K;
	float *g = grad + (long long)n * K;
	int label = labels[n];

	float m = -INFINITY;
	for (int j = threadIdx.x; j < K; j += blockDim.x)
		m = fmaxf(m, z[j]);
	red[threadIdx.x] = m;
	__syncthreads();
	for (int h = blockDim.x / 2; h > 0; h /= 2) {
		if ((int)threadIdx.x < h)
			red[threadIdx.x] = fmaxf(red[threadIdx.x], red[threadIdx.x + h]);
		__syncthreads();
	}
	m = red[0];
	__syncthreads();

	float s = 0.0f;
	for (int j = threadIdx.x; j < K; j += blockDim.x)
		s += expf(z[j] - m);
	red[threadIdx.x] = s;
	__syncthreads();
	for (int h = blockDim.x / 2; h > 0; h /= 2) {
		if ((int)threadIdx.x < h)
			red[threadIdx.x] += red[threadIdx.x + h];
		__syncthreads();
	}
	s = red[0];
	float lse = m + logf(s);
	int ok = label >= 0 && label < K;
	for (int j = threadIdx.x; j < K; j += blockDim.x) {
		float p = expf(z[j] - lse);
		g[j] = ok ? gradScale * (p - (j == label ? 1.0f : 0.0f)) : NAN;
	}
	if (threadIdx.x == 0)
		loss[n] = ok ? lse - z[label] : NAN;
}

// sgd_momentum: PyTorch's SGD with momentum and weight decay:
//   g' = g + wd*w;  v = mu*v + g';  w -= lr*v
KERNEL void sgd_momentum(float *w, const float *g, float *v, long long n, float lr, float mu, float wd)
{
	for (long long t = gid(); t < n; t += gstride()) {
		float gg = g[t] + wd * w[t];
		float vv = mu * v[t] + gg;
		v[t] = vv;
		w[t] -= lr * vv;
	}
}

// splitmix64 is the SplitMix64 finaliser (as ops/dropout.go).
__device__ static unsigned long long splitmix64(unsigned long long z)
{
	z += 0x9e3779b97f4a7c15ULL;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

// dropout: y = x*scale where element t is kept, else 0. Element t is kept
// when its uniform draw u = splitmix64(key + t*golden) / 2^64 (53 bits) is
// at least rate: the mask of ops.DropoutKeep, so the device and the CPU
// graph drop the same elements. The backward is the same map applied to dy.
KERNEL void dropout(const float *x, float *y, long long n, unsigned long long key, double rate, float scale)
{
	for (long long t = gid(); t < n; t += gstride()) {
		unsigned long long h = splitmix64(key + (unsigned long long)t * 0x9e3779b97f4a7c15ULL);
		double u = (double)(h >> 11) / 9007199254740992.0; // 2^53
		y[t] = u >= rate ? x[t] * scale : 0.0f;
	}
}

// bn.cu: batch normalisation over (N, H, W) per channel of NCHW tensors,
// training (batch statistics, biased variance) and evaluation (running
// statistics), as ops.BatchNorm computes it on the CPU. Reductions run one
// block per channel (gridDim.x = C, blockDim.x = THREADS) and accumulate in
// double.
#include "common.cuh"

// block_sum reduces v over the block (every thread gets the sum); part
// is THREADS doubles of shared memory.
__device__ double block_sum(double *part, double v)
{
	part[threadIdx.x] = v;
	__syncthreads();
	for (int h = blockDim.x / 2; h > 0; h /= 2) {
		if ((int)threadIdx.x < h)
			part[threadIdx.x] += part[threadIdx.x + h];
		__syncthreads();
	}
	double s = part[0];
	__syncthreads(); // part is reused by the next reduction
	return s;
}

// bn_stats: per channel c, mean[c], the biased variance bvar[c] and
// invstd[c] = 1/sqrt(bvar[c] + eps) of x [N][C][HW] (two passes).
KERNEL void bn_stats(const float *x, float *mean, float *invstd, float *bvar, int N, int C, int HW, float eps)
{
	__shared__ double part[THREADS];
	int c = blockIdx.x;
	if (c >= C)
		return; // uniform across the block
	long long per = (long long)N * HW;
	double s = 0;
	for (long long e = threadIdx.x; e < per; e += blockDim.x) {
		long long n = e / HW, p = e % HW;
		s += x[(n * C + c) * HW + p];
	}
	double mu = block_sum(part, s) / (double)per;
	double ss = 0;
	for (long long e = threadIdx.x; e < per; e += blockDim.x) {
		long long n = e / HW, p = e % HW;
		double d = x[(n * C + c) * HW + p] - mu;
		ss += d * d;
	}
	double var = block_sum(part, ss) / (double)per;
	if (threadIdx.x == 0) {
		mean[c] = (float)mu;
		bvar[c] = (float)var;
		invstd[c] = (float)(1.0 / sqrt(var + (double)eps));
	}
}

// bn_apply: y = gamma[c]*invstd[c]*(x - mean[c]) + beta[c], then max(0, .)
// when relu, over N*C*HW elements.
KERNEL void bn_apply(const float *x, float *y, const float *gamma, const float *beta, const float *mean,
                     const float *invstd, int N, int C, int HW, int relu)
{
	long long total = (long long)N * C * HW;
	for (long long i = gid(); i < total; i += gstride()) {
		int c = (int)((i / HW) % C);
		float a = gamma[c] * invstd[c];
		float v = a * (x[i] - mean[c]) + beta[c];
		y[i] = (relu && v <= 0.0f) ? 0.0f : v;
	}
}

// bn_running: the running statistics' update after a training forward:
// rmean = (1-mom)*rmean + mom*mean, rvar = (1-mom)*rvar + mom*bvar*unbias
// (unbias = m/(m-1), the unbiased variance), over C channels.
KERNEL void bn_running(float *rmean, float *rvar, const float *mean, const float *bvar, int C, float mom,
                       float unbias)
{
	for (long long c = gid(); c < C; c += gstride()) {
		rmean[c] = (1.0f - mom) * rmean[c] + mom * mean[c];
		rvar[c] = (1.0f - mom) * rvar[c] + mom * bvar[c] * unbias;
	}
}

// bn_invstd: invstd[c] = 1/sqrt(var[c] + eps), for evaluation with the
// running variance.
KERNEL void bn_invstd(const float *var, float *invstd, int C, float eps)
{
	for (long long c = gid(); c < C; c += gstride())
		invstd[c] = (float)(1.0 / sqrt((double)var[c] + (double)eps));
}

// bn_bwd_reduce: per channel, dbeta[c] = sum dy and
// dgamma[c] = sum dy*xhat with xhat = (x - mean[c])*invstd[c] (overwrites
// both).
KERNEL void bn_bwd_reduce(const float *x, const float *dy, const float *mean, const float *invstd, float *dgamma,
                          float *dbeta, int N, int C, int HW)
{
	__shared__ double part[THREADS];
	int c = blockIdx.x;
	if (c >= C)
		return; // uniform across the block
	long long per = (long long)N * HW;
	double a = 0, b = 0;
	for (long long e = threadIdx.x; e < per; e += blockDim.x) {
		long long n = e / HW, p = e % HW;
		long long i = (n * C + c) * HW + p;
		a += dy[i];
		b += (double)dy[i] * ((double)x[i] - mean[c]);
	}
	double sdy = block_sum(part, a);
	double sdyx = block_sum(part, b) * invstd[c];
	if (threadIdx.x == 0) {
		dbeta[c] = (float)sdy;
		dgamma[c] = (float)sdyx;
	}
}

// bn_bwd_data: dx = gamma*invstd*(dy - dbeta/m - xhat*dgamma/m) with
// m = N*HW (training), from bn_bwd_reduce's sums; overwrites dx.
KERNEL void bn_bwd_data(const float *x, const float *dy, const float *gamma, const float *mean, const float *invstd,
                        const float *dgamma, const float *dbeta, float *dx, int N, int C, int HW)
{
	long long total = (long long)N * C * HW;
	float m = (float)((long long)N * HW);
	for (long long i = gid(); i < total; i += gstride()) {
		int c = (int)((i / HW) % C);
		float xh = (x[i] - mean[c]) * invstd[c];
		dx[i] = gamma[c] * invstd[c] * (dy[i] - dbeta[c] / m - xh * dgamma[c] / m);
	}
}

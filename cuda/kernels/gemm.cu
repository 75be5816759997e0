// gemm.cu: tiled single-precision GEMM with a fused epilogue.
//
// For each z in [0, gridDim.z):
//   C_z = act(alpha * op(A_z) * op(B_z) + beta * C_z + bias)
// with row-major storage, A_z = A + z*strideA (likewise B, C), op(X) = X^T
// when the matching flag is set, bias indexed by row (biasMode 1) or by
// column (biasMode 2), and act = max(0, .) when relu is set. When beta is 0,
// C is not read (BLAS convention: NaN in C does not leak).
//
// Column blocking: each matrix's storage column index s (the contiguous
// one) may be remapped to (s / blk) * blkStride + s % blk (blk = 0: no
// remapping). With blk = H*W this views a batch of NCHW images as one
// [C, N*H*W] matrix, so one GEMM covers the batch with a wide N even when
// each image is small (7x7).
//
// Tiling: a 256-thread block computes a 64x64 (sgemm) or 128x128
// (sgemm_128) tile of C, staging panels of A and B in shared memory; each
// thread accumulates a 4x4 or 8x8 micro-tile in registers.
#include "common.cuh"

// COL remaps storage column s (see above).
#define COL(s, blk, bs) ((blk) ? (long long)((s) / (blk)) * (bs) + (s) % (blk) : (long long)(s))

// gemm_tile is the kernel body for a BM x BN tile of C computed by 256
// threads, each accumulating a (BM/16) x (BN/16) register micro-tile at rows
// ty+16i and columns tx+16j, staging BK-deep panels of A and B in shared
// memory.
template <int BM, int BN, int BK>
__device__ static void gemm_tile(int ta, int tb, int M, int N, int K, float alpha,
                                 const float *A, int lda, long long strideA,
                                 const float *B, int ldb, long long strideB,
                                 float beta, float *C, int ldc, long long strideC,
                                 const float *bias, int biasMode, int relu,
                                 int aBlk, long long aBlkStride, int bBlk, long long bBlkStride,
                                 int cBlk, long long cBlkStride)
{
	const int TM = BM / 16, TN = BN / 16;
	__shared__ float As[BK][BM + 1];
	__shared__ float Bs[BK][BN + 1];
	A += blockIdx.z * strideA;
	B += blockIdx.z * strideB;
	C += blockIdx.z * strideC;
	int m0 = blockIdx.y * BM, n0 = blockIdx.x * BN;
	int tid = threadIdx.x;
	int tx = tid % 16, ty = tid / 16;
	float acc[TM][TN];
	for (int i = 0; i < TM; i++)
		for (int j = 0; j < TN; j++)
			acc[i][j] = 0.0f;

	for (int k0 = 0; k0 < K; k0 += BK) {
		// Stage the A panel: As[kk][mm] = op(A)[m0+mm][k0+kk]. The index
		// order makes consecutive threads read consecutive addresses.
		for (int e = tid; e < BM * BK; e += 256) {
			int mm, kk;
			if (!ta) {
				kk = e % BK;
				mm = e / BK;
			} else {
				mm = e % BM;
				kk = e / BM;
			}
			int gm = m0 + mm, gk = k0 + kk;
			float v = 0.0f;
			if (gm < M && gk < K)
				v = ta ? A[(long long)gk * lda + COL(gm, aBlk, aBlkStride)]
				       : A[(long long)gm * lda + COL(gk, aBlk, aBlkStride)];
			As[kk][mm] = v;
		}
		// Stage the B panel: Bs[kk][nn] = op(B)[k0+kk][n0+nn].
		for (int e = tid; e < BN * BK; e += 256) {
			int nn, kk;
			if (!tb) {
				nn = e % BN;
				kk = e / BN;
			} else {
				kk = e % BK;
				nn = e / BK;
			}
			int gn = n0 + nn, gk = k0 + kk;
			float v = 0.0f;
			if (gn < N && gk < K)
				v = tb ? B[(long long)gn * ldb + COL(gk, bBlk, bBlkStride)]
				       : B[(long long)gk * ldb + COL(gn, bBlk, bBlkStride)];
			Bs[kk][nn] = v;
		}
		__syncthreads();
		for (int kk = 0; kk < BK; kk++) {
			float a[TM], b[TN];
			for (int i = 0; i < TM; i++)
				a[i] = As[kk][ty + 16 * i];
			for (int j = 0; j < TN; j++)
				b[j] = Bs[kk][tx + 16 * j];
			for (int i = 0; i < TM; i++)
				for (int j = 0; j < TN; j++)
					acc[i][j] += a[i] * b[j];
		}
		__syncthreads();
	}

	for (int i = 0; i < TM; i++) {
		int m = m0 + ty + 16 * i;
		if (m >= M)
			continue;
		for (int j = 0; j < TN; j++) {
			int n = n0 + tx + 16 * j;
			if (n >= N)
				continue;
			float *cp = C + (long long)m * ldc + COL(n, cBlk, cBlkStride);
			float v = alpha * acc[i][j];
			if (beta != 0.0f)
				v += beta * *cp;
			if (biasMode == 1)
				v += bias[m];
			else if (biasMode == 2)
				v += bias[n];
			if (relu && !(v > 0.0f))
				v = 0.0f;
			*cp = v;
		}
	}
}

#define GEMM_PARAMS                                                                         \
	int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,          \
	    long long strideA, const float *B, int ldb, long long strideB, float beta,      \
	    float *C, int ldc, long long strideC, const float *bias, int biasMode, int relu, \
	    int aBlk, long long aBlkStride, int bBlk, long long bBlkStride, int cBlk,       \
	    long long cBlkStride
#define GEMM_ARGS                                                                           \
	ta, tb, M, N, K, alpha, A, lda, strideA, B, ldb, strideB, beta, C, ldc, strideC, bias, \
	    biasMode, relu, aBlk, aBlkStride, bBlk, bBlkStride, cBlk, cBlkStride

// sgemm: 64x64 tiles (4x4 per thread), for any shape.
KERNEL void sgemm(GEMM_PARAMS) { gemm_tile<64, 64, 16>(GEMM_ARGS); }

// sgemm_128: 128x128 tiles (8x8 per thread, twice the arithmetic per
// shared-memory load), for M and N of at least 128.
KERNEL void sgemm_128(GEMM_PARAMS) { gemm_tile<128, 128, 8>(GEMM_ARGS); }

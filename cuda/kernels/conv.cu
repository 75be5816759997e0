// conv.cu: im2col and col2im for NCHW convolutions, batched over a chunk of
// images so that one strided-batched GEMM covers the chunk.
//
// col layout for a chunk of nb images starting at image n0:
//   col[i][(c*R + r)*S + s][oh*OW + ow] = x[n0+i][c][oh*sh - pt + r][ow*sw - pl + s]
// (zero where the input index falls in the padding).
#include "common.cuh"

KERNEL void im2col(const float *x, float *col, int n0, int nb, int C, int H, int W,
                   int R, int S, int sh, int sw, int pt, int pl, int OH, int OW)
{
	long long ohw = (long long)OH * OW;
	long long crs = (long long)C * R * S;
	long long total = (long long)nb * crs * ohw;
	for (long long t = gid(); t < total; t += gstride()) {
		long long p = t % ohw;
		long long q = (t / ohw) % crs;
		long long i = t / (ohw * crs);
		int ow = (int)(p % OW), oh = (int)(p / OW);
		int s = (int)(q % S), r = (int)((q / S) % R), c = (int)(q / ((long long)R * S));
		int ih = oh * sh - pt + r, iw = ow * sw - pl + s;
		float v = 0.0f;
		if (ih >= 0 && ih < H && iw >= 0 && iw < W)
			v = x[(((n0 + i) * C + c) * H + ih) * (long long)W + iw];
		col[t] = v;
	}
}

// col2im overwrites dx for images n0..n0+nb-1 with the sum of the col
// entries that im2col would have read from each input element. It gathers
// (one thread per input element) instead of scattering, so it needs no
// atomics and is deterministic.
KERNEL void col2im(const float *col, float *dx, int n0, int nb, int C, int H, int W,
                   int R, int S, int sh, int sw, int pt, int pl, int OH, int OW)
{
	long long ohw = (long long)OH * OW;
	long long crs = (long long)C * R * S;
	long long total = (long long)nb * C * H * W;
	for (long long t = gid(); t < total; t += gstride()) {
		int iw = (int)(t % W), ih = (int)((t / W) % H);
		int c = (int)((t / ((long long)W * H)) % C);
		long long i = t / ((long long)W * H * C);
		float sum = 0.0f;
		for (int r = 0; r < R; r++) {
			int a = ih + pt - r; // = oh*sh
			if (a < 0 || a % sh != 0)
				continue;
			int oh = a / sh;
			if (oh >= OH)
				continue;
			for (int s = 0; s < S; s++) {
				int b = iw + pl - s;
				if (b < 0 || b % sw != 0)
					continue;
				int ow = b / sw;
				if (ow >= OW)
					continue;
				sum += col[(i * crs + ((long long)c * R + r) * S + s) * ohw + (long long)oh * OW + ow];
			}
		}
		dx[(n0 * (long long)C * H * W) + t] = sum;
	}
}

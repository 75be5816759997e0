// pool.cu: max and average pooling over NCHW planes, forward and backward.
//
// Windows start at the top-left padded corner: window (oh, ow) covers input
// rows oh*sh - pt .. oh*sh - pt + kh - 1 (likewise columns). OH and OW are
// computed by the caller (floor or ceil mode); pb and pr, the bottom and
// right padding, bound the average pool's divisor as in PyTorch and Caffe.
// Backward kernels gather (one thread per input element), so they need no
// atomics and are deterministic.
#include "common.cuh"

// first and last window index (inclusive) whose span of length k at stride s
// with leading pad p covers input index i, clipped to [0, O).
#define WINDOWS(i, k, s, p, O, lo, hi)                        \
	int lo = (i) + (p) - (k) + 1;                             \
	lo = lo <= 0 ? 0 : (lo + (s) - 1) / (s);                  \
	int hi = ((i) + (p)) / (s);                               \
	if (hi > (O) - 1)                                         \
		hi = (O) - 1;

// maxpool_fwd writes y and, in argmax, the index ih*W+iw of the first
// maximum of each window (-1 if the window holds no input element, y is
// then -Inf). NaN inputs propagate (PyTorch semantics).
KERNEL void maxpool_fwd(const float *x, float *y, int *argmax, int NC, int H, int W,
                        int kh, int kw, int sh, int sw, int pt, int pl, int OH, int OW)
{
	long long total = (long long)NC * OH * OW;
	for (long long t = gid(); t < total; t += gstride()) {
		int ow = (int)(t % OW), oh = (int)((t / OW) % OH);
		long long nc = t / ((long long)OW * OH);
		const float *xp = x + nc * H * W;
		int h0 = oh * sh - pt, w0 = ow * sw - pl;
		float m = -INFINITY;
		int am = -1;
		for (int ih = h0 < 0 ? 0 : h0; ih < h0 + kh && ih < H; ih++)
			for (int iw = w0 < 0 ? 0 : w0; iw < w0 + kw && iw < W; iw++) {
				float v = xp[ih * W + iw];
				if (am < 0 || v > m || (v != v && m == m)) {
					m = v;
					am = ih * W + iw;
				}
			}
		y[t] = m;
		argmax[t] = am;
	}
}

// maxpool_bwd overwrites dx: each input element receives the dy of every
// window whose argmax it is.
KERNEL void maxpool_bwd(const float *dy, const int *argmax, float *dx, int NC, int H, int W,
                        int kh, int kw, int sh, int sw, int pt, int pl, int OH, int OW)
{
	long long total = (long long)NC * H * W;
	for (long long t = gid(); t < total; t += gstride()) {
		int iw = (int)(t % W), ih = (int)((t / W) % H);
		long long nc = t / ((long long)W * H);
		int self = ih * W + iw;
		WINDOWS(ih, kh, sh, pt, OH, ohlo, ohhi)
		WINDOWS(iw, kw, sw, pl, OW, owlo, owhi)
		float sum = 0.0f;
		for (int oh = ohlo; oh <= ohhi; oh++)
			for (int ow = owlo; ow <= owhi; ow++) {
				long long o = (nc * OH + oh) * OW + ow;
				if (argmax[o] == self)
					sum += dy[o];
			}
		dx[t] = sum;
	}
}

// avg_divisor is the number an average-pool window divides by: the window
// clipped to the padded input (includePad) or to the input itself.
__device__ static int avg_divisor(int oh, int ow, int H, int W, int kh, int kw, int sh, int sw,
                                  int pt, int pl, int pb, int pr, int includePad)
{
	int h0 = oh * sh - pt, w0 = ow * sw - pl;
	int h1 = h0 + kh, w1 = w0 + kw;
	if (includePad) {
		if (h1 > H + pb)
			h1 = H + pb;
		if (w1 > W + pr)
			w1 = W + pr;
		return (h1 - h0) * (w1 - w0);
	}
	if (h0 < 0)
		h0 = 0;
	if (w0 < 0)
		w0 = 0;
	if (h1 > H)
		h1 = H;
	if (w1 > W)
		w1 = W;
	if (h1 <= h0 || w1 <= w0)
		return 0;
	return (h1 - h0) * (w1 - w0);
}

// avgpool_fwd: y = sum of the window's input elements / divisor (0 when the
// divisor is 0).
KERNEL void avgpool_fwd(const float *x, float *y, int NC, int H, int W, int kh, int kw,
                        int sh, int sw, int pt, int pl, int pb, int pr, int OH, int OW,
                        int includePad)
{
	long long total = (long long)NC * OH * OW;
	for (long long t = gid(); t < total; t += gstride()) {
		int ow = (int)(t % OW), oh = (int)((t / OW) % OH);
		long long nc = t / ((long long)OW * OH);
		const float *xp = x + nc * H * W;
		int h0 = oh * sh - pt, w0 = ow * sw - pl;
		float s = 0.0f;
		for (int ih = h0 < 0 ? 0 : h0; ih < h0 + kh && ih < H; ih++)
			for (int iw = w0 < 0 ? 0 : w0; iw < w0 + kw && iw < W; iw++)
				s += xp[ih * W + iw];
		int d = avg_divisor(oh, ow, H, W, kh, kw, sh, sw, pt, pl, pb, pr, includePad);
		y[t] = d > 0 ? s / (float)d : 0.0f;
	}
}

// avgpool_bwd overwrites dx with the sum over covering windows of dy/divisor.
KERNEL void avgpool_bwd(const float *dy, float *dx, int NC, int H, int W, int kh, int kw,
                        int sh, int sw, int pt, int pl, int pb, int pr, int OH, int OW,
                        int includePad)
{
	long long total = (long long)NC * H * W;
	for (long long t = gid(); t < total; t += gstride()) {
		int iw = (int)(t % W), ih = (int)((t / W) % H);
		long long nc = t / ((long long)W * H);
		WINDOWS(ih, kh, sh, pt, OH, ohlo, ohhi)
		WINDOWS(iw, kw, sw, pl, OW, owlo, owhi)
		float sum = 0.0f;
		for (int oh = ohlo; oh <= ohhi; oh++)
			for (int ow = owlo; ow <= owhi; ow++) {
				int d = avg_divisor(oh, ow, H, W, kh, kw, sh, sw, pt, pl, pb, pr, includePad);
				if (d > 0)
					sum += dy[(nc * OH + oh) * OW + ow] / (float)d;
			}
		dx[t] = sum;
	}
}

// Adaptive average pooling as PyTorch's AdaptiveAvgPool2d: output oh of
// OH averages input rows [oh*H/OH, ceil((oh+1)*H/OH)), likewise for the
// columns; windows may be uneven and may overlap.
__device__ int ad_start(int o, int in, int out) { return o * in / out; }
__device__ int ad_end(int o, int in, int out) { return ((o + 1) * in + out - 1) / out; }

// adaptive_avg_fwd: y [NC][OH][OW] from x [NC][H][W].
KERNEL void adaptive_avg_fwd(const float *x, float *y, int NC, int H, int W, int OH, int OW)
{
	long long total = (long long)NC * OH * OW;
	for (long long t = gid(); t < total; t += gstride()) {
		int ow = (int)(t % OW), oh = (int)((t / OW) % OH);
		long long nc = t / ((long long)OW * OH);
		int h0 = ad_start(oh, H, OH), h1 = ad_end(oh, H, OH);
		int w0 = ad_start(ow, W, OW), w1 = ad_end(ow, W, OW);
		const float *xp = x + nc * H * W;
		float s = 0.0f;
		for (int ih = h0; ih < h1; ih++)
			for (int iw = w0; iw < w1; iw++)
				s += xp[ih * W + iw];
		y[t] = s / (float)((h1 - h0) * (w1 - w0));
	}
}

// adaptive_avg_bwd overwrites dx with the sum over the windows covering
// each input element of dy/window size (a gather: no atomics).
KERNEL void adaptive_avg_bwd(const float *dy, float *dx, int NC, int H, int W, int OH, int OW)
{
	long long total = (long long)NC * H * W;
	for (long long t = gid(); t < total; t += gstride()) {
		int iw = (int)(t % W), ih = (int)((t / W) % H);
		long long nc = t / ((long long)W * H);
		float sum = 0.0f;
		for (int oh = 0; oh < OH; oh++) {
			int h0 = ad_start(oh, H, OH), h1 = ad_end(oh, H, OH);
			if (ih < h0 || ih >= h1)
				continue;
			for (int ow = 0; ow < OW; ow++) {
				int w0 = ad_start(ow, W, OW), w1 = ad_end(ow, W, OW);
				if (iw >= w0 && iw < w1)
					sum += dy[(nc * OH + oh) * OW + ow] / (float)((h1 - h0) * (w1 - w0));
			}
		}
		dx[t] = sum;
	}
}

// lrn.cu: local response normalisation across channels (Caffe/ONNX):
//   scale[c] = k + alpha/size * sum_{c' = c-size/2 .. c+size/2} x[c']^2
//   y[c]     = x[c] * scale[c]^-beta
// Backward (the window is symmetric, so c is in the window of c' exactly
// when c' is in the window of c):
//   dx[c] = dy[c]*scale[c]^-beta
//           - 2*alpha*beta/size * x[c] * sum_{c' in window(c)} dy[c']*y[c']/scale[c']
#include "common.cuh"

KERNEL void lrn_fwd(const float *x, float *y, float *scale, int N, int C, int HW,
                    int size, float alpha, float beta, float k)
{
	long long total = (long long)N * C * HW;
	int half = size / 2;
	for (long long t = gid(); t < total; t += gstride()) {
		long long p = t % HW;
		int c = (int)((t / HW) % C);
		long long n = t / ((long long)HW * C);
		const float *xp = x + n * C * HW + p;
		float s = 0.0f;
		for (int j = c - half; j <= c + half; j++)
			if (j >= 0 && j < C) {
				float v = xp[(long long)j * HW];
				s += v * v;
			}
		float sc = k + alpha / (float)size * s;
		scale[t] = sc;
		y[t] = x[t] * powf(sc, -beta);
	}
}

KERNEL void lrn_bwd(const float *x, const float *y, const float *scale, const float *dy,
                    float *dx, int N, int C, int HW, int size, float alpha, float beta)
{
	long long total = (long long)N * C * HW;
	int half = size / 2;
	for (long long t = gid(); t < total; t += gstride()) {
		long long p = t % HW;
		int c = (int)((t / HW) % C);
		long long n = t / ((long long)HW * C);
		long long base = n * C * HW + p;
		float s = 0.0f;
		for (int j = c - half; j <= c + half; j++)
			if (j >= 0 && j < C) {
				long long o = base + (long long)j * HW;
				s += dy[o] * y[o] / scale[o];
			}
		dx[t] = dy[t] * powf(scale[t], -beta) - 2.0f * alpha * beta / (float)size * x[t] * s;
	}
}

// fakelib.cc: a small fake of the cuDNN 9 legacy convolution API and of
// cuBLAS, exporting the entry points package cuda calls, computing with
// plain reference loops (double accumulation) on the emulation's host
// memory. Device pointers are the emulation's addresses (handle<<40 |
// offset), resolved through the registry that Executor.Alloc fills; a
// pointer that does not resolve, or an extent that overruns its buffer, is
// CUDNN_STATUS_BAD_PARAM / CUBLAS_STATUS_INVALID_VALUE, so the tests catch
// wrong descriptors and workspace sizes. The functions are reached through
// emu_fake_sym (by name), and called by package cuda through purego like
// the real libraries.
#include <map>
#include <math.h>
#include <mutex>
#include <stdint.h>
#include <string.h>
#include <string>

#include "emu.h"

namespace {

std::mutex reg_mu;
std::map<uint64_t, std::pair<char *, int64_t>> reg; // device base -> host, bytes

// host returns the host address of device pointer p with n bytes after it,
// or nullptr.
float *host(uint64_t p, int64_t n)
{
	std::lock_guard<std::mutex> lock(reg_mu);
	uint64_t base = p & ~((uint64_t(1) << 40) - 1), off = p - base;
	auto it = reg.find(base);
	if (it == reg.end() || (int64_t)off + n > it->second.second)
		return nullptr;
	return (float *)(it->second.first + off);
}

// Status codes (cuDNN 9, cuBLAS).
enum { DNN_OK = 0, DNN_BAD_PARAM = 2000, DNN_NOT_SUPPORTED = 3000, DNN_EXEC_FAILED = 5000 };
enum { BLAS_OK = 0, BLAS_INVALID_VALUE = 7, BLAS_EXEC_FAILED = 13 };

struct handle {
	void *stream;
};
struct tensor {
	int n, c, h, w, ns, cs, hs, ws;
	bool set;
};
struct filter {
	int k, c, r, s;
	bool set;
};
struct conv {
	int ph, pw, sh, sw, dh, dw, mode, math;
};
struct act {
	int mode;
};
struct perf {
	int algo, status;
	float time;
	size_t memory;
	int determinism, math, reserved[3];
};

// Every call is counted, and the last math modes and stream kept, for the
// tests (emu_fake_stats).
std::mutex stat_mu;
std::map<std::string, long> calls;
long last_dnn_math = -1, last_blas_math = -1;
uint64_t last_dnn_stream, last_blas_stream;
void count(const char *fn)
{
	std::lock_guard<std::mutex> lock(stat_mu);
	calls[fn]++;
}

int64_t extent(const tensor *t)
{
	return (int64_t)4 * ((int64_t)(t->n - 1) * t->ns + (int64_t)(t->c - 1) * t->cs + (int64_t)(t->h - 1) * t->hs +
			     (int64_t)(t->w - 1) * t->ws + 1);
}
float &at(float *p, const tensor *t, int n, int c, int h, int w)
{
	return p[(int64_t)n * t->ns + (int64_t)c * t->cs + (int64_t)h * t->hs + (int64_t)w * t->ws];
}

// geometry checks the descriptors of a convolution x * w -> y.
bool geometry(const tensor *x, const filter *w, const conv *c, const tensor *y)
{
	if (!x || !w || !c || !y || !x->set || !w->set || !y->set)
		return false;
	if (x->c != w->c || y->c != w->k || x->n != y->n || c->dh != 1 || c->dw != 1 || c->mode != 1)
		return false;
	int oh = (x->h + 2 * c->ph - w->r) / c->sh + 1, ow = (x->w + 2 * c->pw - w->s) / c->sw + 1;
	return oh == y->h && ow == y->w;
}

// Algorithms the fake offers, fastest first: one needing a workspace of a
// whole im2col of the batch times 64 (more than any bound), one needing
// one im2col of the batch, one needing none. Package cuda must pick the
// fastest whose workspace fits its bound.
size_t col_bytes(const tensor *x, const filter *w, const tensor *y)
{
	return (size_t)4 * x->n * w->c * w->r * w->s * y->h * y->w;
}
int algos(const tensor *x, const filter *w, const conv *c, const tensor *y, int req, int *ret, perf *p)
{
	if (!geometry(x, w, c, y) || req < 1 || !ret || !p)
		return DNN_BAD_PARAM;
	size_t mem[3] = {64 * col_bytes(x, w, y), col_bytes(x, w, y), 0};
	int n = req < 3 ? req : 3;
	for (int i = 0; i < n; i++) {
		memset(&p[i], 0, sizeof(perf));
		p[i].algo = 7 - i; // not the index: the algo field must be read
		p[i].status = DNN_OK;
		p[i].time = (float)(i + 1);
		p[i].memory = mem[i];
		p[i].math = c->math;
	}
	*ret = n;
	return DNN_OK;
}

bool workspace_ok(const tensor *x, const filter *w, const tensor *y, int algo, uint64_t ws, size_t bytes)
{
	size_t need = algo == 7 ? 64 * col_bytes(x, w, y) : algo == 6 ? col_bytes(x, w, y) : 0;
	if (algo < 5 || algo > 7 || bytes < need)
		return false;
	return need == 0 || host(ws, (int64_t)need) != nullptr;
}

} // namespace

extern "C" {

void emu_register(uint64_t dev, void *h, int64_t bytes)
{
	std::lock_guard<std::mutex> lock(reg_mu);
	reg[dev] = {(char *)h, bytes};
}

void emu_unregister(uint64_t dev)
{
	std::lock_guard<std::mutex> lock(reg_mu);
	reg.erase(dev);
}

// ---- cuDNN ----

static size_t fake_cudnnGetVersion(void) { return 90100; }
static const char *fake_cudnnGetErrorString(int s)
{
	switch (s) {
	case DNN_OK:
		return "CUDNN_STATUS_SUCCESS";
	case DNN_BAD_PARAM:
		return "CUDNN_STATUS_BAD_PARAM";
	case DNN_NOT_SUPPORTED:
		return "CUDNN_STATUS_NOT_SUPPORTED";
	}
	return "CUDNN_STATUS_EXECUTION_FAILED";
}
static int fake_cudnnCreate(handle **h)
{
	count("cudnnCreate");
	*h = new handle{};
	return DNN_OK;
}
static int fake_cudnnDestroy(handle *h)
{
	count("cudnnDestroy");
	delete h;
	return DNN_OK;
}
static int fake_cudnnSetStream(handle *h, void *s)
{
	h->stream = s;
	std::lock_guard<std::mutex> lock(stat_mu);
	last_dnn_stream = (uint64_t)s;
	return DNN_OK;
}
static int fake_cudnnCreateTensorDescriptor(tensor **d)
{
	count("cudnnCreateTensorDescriptor");
	*d = new tensor{};
	return DNN_OK;
}
static int fake_cudnnSetTensor4dDescriptorEx(tensor *d, int dtype, int n, int c, int h, int w, int ns, int cs, int hs,
					     int ws)
{
	if (dtype != 0 || n <= 0 || c <= 0 || h <= 0 || w <= 0 || ns <= 0 || cs <= 0 || hs <= 0 || ws <= 0)
		return DNN_BAD_PARAM;
	*d = tensor{n, c, h, w, ns, cs, hs, ws, true};
	return DNN_OK;
}
static int fake_cudnnDestroyTensorDescriptor(tensor *d)
{
	count("cudnnDestroyTensorDescriptor");
	delete d;
	return DNN_OK;
}
static int fake_cudnnCreateFilterDescriptor(filter **d)
{
	count("cudnnCreateFilterDescriptor");
	*d = new filter{};
	return DNN_OK;
}
static int fake_cudnnSetFilter4dDescriptor(filter *d, int dtype, int format, int k, int c, int r, int s)
{
	if (dtype != 0 || format != 0 || k <= 0 || c <= 0 || r <= 0 || s <= 0)
		return DNN_BAD_PARAM;
	*d = filter{k, c, r, s, true};
	return DNN_OK;
}
static int fake_cudnnDestroyFilterDescriptor(filter *d)
{
	count("cudnnDestroyFilterDescriptor");
	delete d;
	return DNN_OK;
}
static int fake_cudnnCreateConvolutionDescriptor(conv **d)
{
	count("cudnnCreateConvolutionDescriptor");
	*d = new conv{};
	return DNN_OK;
}
static int fake_cudnnSetConvolution2dDescriptor(conv *d, int ph, int pw, int sh, int sw, int dh, int dw, int mode,
						int ctype)
{
	if (ph < 0 || pw < 0 || sh <= 0 || sw <= 0 || dh <= 0 || dw <= 0 || (mode != 0 && mode != 1) || ctype != 0)
		return DNN_BAD_PARAM;
	*d = conv{ph, pw, sh, sw, dh, dw, mode, 0};
	return DNN_OK;
}
static int fake_cudnnSetConvolutionMathType(conv *d, int math)
{
	if (math < 0 || math > 3)
		return DNN_BAD_PARAM;
	d->math = math;
	std::lock_guard<std::mutex> lock(stat_mu);
	last_dnn_math = math;
	return DNN_OK;
}
static int fake_cudnnDestroyConvolutionDescriptor(conv *d)
{
	count("cudnnDestroyConvolutionDescriptor");
	delete d;
	return DNN_OK;
}
static int fake_cudnnCreateActivationDescriptor(act **d)
{
	*d = new act{-1};
	return DNN_OK;
}
static int fake_cudnnSetActivationDescriptor(act *d, int mode, int nan, double coef)
{
	if (mode != 1 || nan < 0 || nan > 1 || coef < 0)
		return DNN_NOT_SUPPORTED; // only ReLU is faked
	d->mode = mode;
	return DNN_OK;
}
static int fake_cudnnDestroyActivationDescriptor(act *d)
{
	delete d;
	return DNN_OK;
}
static int fake_cudnnGetConvolutionForwardAlgorithm_v7(handle *, tensor *x, filter *w, conv *c, tensor *y, int req,
						       int *ret, perf *p)
{
	count("cudnnGetConvolutionForwardAlgorithm_v7");
	return algos(x, w, c, y, req, ret, p);
}
static int fake_cudnnGetConvolutionBackwardDataAlgorithm_v7(handle *, filter *w, tensor *dy, conv *c, tensor *dx,
							    int req, int *ret, perf *p)
{
	count("cudnnGetConvolutionBackwardDataAlgorithm_v7");
	return algos(dx, w, c, dy, req, ret, p);
}
static int fake_cudnnGetConvolutionBackwardFilterAlgorithm_v7(handle *, tensor *x, tensor *dy, conv *c, filter *dw,
							      int req, int *ret, perf *p)
{
	count("cudnnGetConvolutionBackwardFilterAlgorithm_v7");
	return algos(x, dw, c, dy, req, ret, p);
}

// scale writes v into out: alpha*v + beta*out (beta 0 never reads out, as
// in cuDNN).
static void put(float &out, double v, float alpha, float beta)
{
	out = beta == 0 ? (float)(alpha * v) : (float)(alpha * v + beta * out);
}

static int fake_cudnnConvolutionForward(handle *, const float *alpha, tensor *xd, uint64_t xp, filter *wd, uint64_t wp,
					conv *c, int algo, uint64_t ws, size_t wsBytes, const float *beta, tensor *yd,
					uint64_t yp)
{
	count("cudnnConvolutionForward");
	if (!geometry(xd, wd, c, yd) || !workspace_ok(xd, wd, yd, algo, ws, wsBytes))
		return DNN_BAD_PARAM;
	float *x = host(xp, extent(xd)), *y = host(yp, extent(yd));
	float *w = host(wp, (int64_t)4 * wd->k * wd->c * wd->r * wd->s);
	if (!x || !y || !w)
		return DNN_BAD_PARAM;
	for (int n = 0; n < yd->n; n++)
		for (int k = 0; k < yd->c; k++)
			for (int oh = 0; oh < yd->h; oh++)
				for (int ow = 0; ow < yd->w; ow++) {
					double s = 0;
					for (int ci = 0; ci < wd->c; ci++)
						for (int r = 0; r < wd->r; r++)
							for (int q = 0; q < wd->s; q++) {
								int ih = oh * c->sh - c->ph + r, iw = ow * c->sw - c->pw + q;
								if (ih < 0 || ih >= xd->h || iw < 0 || iw >= xd->w)
									continue;
								s += (double)at(x, xd, n, ci, ih, iw) *
								     w[((k * wd->c + ci) * wd->r + r) * wd->s + q];
							}
					put(at(y, yd, n, k, oh, ow), s, *alpha, *beta);
				}
	return DNN_OK;
}

static int fake_cudnnConvolutionBackwardData(handle *, const float *alpha, filter *wd, uint64_t wp, tensor *dyd,
					     uint64_t dyp, conv *c, int algo, uint64_t ws, size_t wsBytes,
					     const float *beta, tensor *dxd, uint64_t dxp)
{
	count("cudnnConvolutionBackwardData");
	if (!geometry(dxd, wd, c, dyd) || !workspace_ok(dxd, wd, dyd, algo, ws, wsBytes))
		return DNN_BAD_PARAM;
	float *dx = host(dxp, extent(dxd)), *dy = host(dyp, extent(dyd));
	float *w = host(wp, (int64_t)4 * wd->k * wd->c * wd->r * wd->s);
	if (!dx || !dy || !w)
		return DNN_BAD_PARAM;
	for (int n = 0; n < dxd->n; n++)
		for (int ci = 0; ci < dxd->c; ci++)
			for (int ih = 0; ih < dxd->h; ih++)
				for (int iw = 0; iw < dxd->w; iw++) {
					double s = 0;
					for (int k = 0; k < wd->k; k++)
						for (int r = 0; r < wd->r; r++)
							for (int q = 0; q < wd->s; q++) {
								int th = ih + c->ph - r, tw = iw + c->pw - q;
								if (th < 0 || tw < 0 || th % c->sh || tw % c->sw)
									continue;
								int oh = th / c->sh, ow = tw / c->sw;
								if (oh >= dyd->h || ow >= dyd->w)
									continue;
								s += (double)at(dy, dyd, n, k, oh, ow) *
								     w[((k * wd->c + ci) * wd->r + r) * wd->s + q];
							}
					put(at(dx, dxd, n, ci, ih, iw), s, *alpha, *beta);
				}
	return DNN_OK;
}

static int fake_cudnnConvolutionBackwardFilter(handle *, const float *alpha, tensor *xd, uint64_t xp, tensor *dyd,
					       uint64_t dyp, conv *c, int algo, uint64_t ws, size_t wsBytes,
					       const float *beta, filter *dwd, uint64_t dwp)
{
	count("cudnnConvolutionBackwardFilter");
	if (!geometry(xd, dwd, c, dyd) || !workspace_ok(xd, dwd, dyd, algo, ws, wsBytes))
		return DNN_BAD_PARAM;
	float *x = host(xp, extent(xd)), *dy = host(dyp, extent(dyd));
	float *dw = host(dwp, (int64_t)4 * dwd->k * dwd->c * dwd->r * dwd->s);
	if (!x || !dy || !dw)
		return DNN_BAD_PARAM;
	for (int k = 0; k < dwd->k; k++)
		for (int ci = 0; ci < dwd->c; ci++)
			for (int r = 0; r < dwd->r; r++)
				for (int q = 0; q < dwd->s; q++) {
					double s = 0;
					for (int n = 0; n < xd->n; n++)
						for (int oh = 0; oh < dyd->h; oh++)
							for (int ow = 0; ow < dyd->w; ow++) {
								int ih = oh * c->sh - c->ph + r, iw = ow * c->sw - c->pw + q;
								if (ih < 0 || ih >= xd->h || iw < 0 || iw >= xd->w)
									continue;
								s += (double)at(x, xd, n, ci, ih, iw) * at(dy, dyd, n, k, oh, ow);
							}
					put(dw[((k * dwd->c + ci) * dwd->r + r) * dwd->s + q], s, *alpha, *beta);
				}
	return DNN_OK;
}

static int fake_cudnnConvolutionBackwardBias(handle *, const float *alpha, tensor *dyd, uint64_t dyp, const float *beta,
					     tensor *dbd, uint64_t dbp)
{
	count("cudnnConvolutionBackwardBias");
	if (!dyd || !dbd || dbd->n != 1 || dbd->c != dyd->c || dbd->h != 1 || dbd->w != 1)
		return DNN_BAD_PARAM;
	float *dy = host(dyp, extent(dyd)), *db = host(dbp, extent(dbd));
	if (!dy || !db)
		return DNN_BAD_PARAM;
	for (int k = 0; k < dyd->c; k++) {
		double s = 0;
		for (int n = 0; n < dyd->n; n++)
			for (int h = 0; h < dyd->h; h++)
				for (int w = 0; w < dyd->w; w++)
					s += at(dy, dyd, n, k, h, w);
		put(at(db, dbd, 0, k, 0, 0), s, *alpha, *beta);
	}
	return DNN_OK;
}

static int fake_cudnnAddTensor(handle *, const float *alpha, tensor *bd, uint64_t bp, const float *beta, tensor *yd,
			       uint64_t yp)
{
	count("cudnnAddTensor");
	if (!bd || !yd || bd->n != 1 || bd->c != yd->c || bd->h != 1 || bd->w != 1)
		return DNN_NOT_SUPPORTED; // only the per-channel bias is faked
	float *b = host(bp, extent(bd)), *y = host(yp, extent(yd));
	if (!b || !y)
		return DNN_BAD_PARAM;
	for (int n = 0; n < yd->n; n++)
		for (int k = 0; k < yd->c; k++)
			for (int h = 0; h < yd->h; h++)
				for (int w = 0; w < yd->w; w++) {
					float &o = at(y, yd, n, k, h, w);
					o = *alpha * at(b, bd, 0, k, 0, 0) + *beta * o;
				}
	return DNN_OK;
}

static int fake_cudnnActivationForward(handle *, act *a, const float *alpha, tensor *xd, uint64_t xp, const float *beta,
				       tensor *yd, uint64_t yp)
{
	count("cudnnActivationForward");
	if (!a || a->mode != 1 || !xd || !yd || xd->n != yd->n || xd->c != yd->c || xd->h != yd->h || xd->w != yd->w)
		return DNN_BAD_PARAM;
	float *x = host(xp, extent(xd)), *y = host(yp, extent(yd));
	if (!x || !y)
		return DNN_BAD_PARAM;
	for (int n = 0; n < yd->n; n++)
		for (int k = 0; k < yd->c; k++)
			for (int h = 0; h < yd->h; h++)
				for (int w = 0; w < yd->w; w++) {
					float v = at(x, xd, n, k, h, w);
					put(at(y, yd, n, k, h, w), v > 0 ? v : (v != v ? v : 0), *alpha, *beta);
				}
	return DNN_OK;
}

// ---- cuBLAS (column-major) ----

static int fake_cublasCreate_v2(handle **h)
{
	count("cublasCreate_v2");
	*h = new handle{};
	return BLAS_OK;
}
static int fake_cublasDestroy_v2(handle *h)
{
	count("cublasDestroy_v2");
	delete h;
	return BLAS_OK;
}
static int fake_cublasSetStream_v2(handle *h, void *s)
{
	h->stream = s;
	std::lock_guard<std::mutex> lock(stat_mu);
	last_blas_stream = (uint64_t)s;
	return BLAS_OK;
}
static int fake_cublasSetMathMode(handle *, int mode)
{
	std::lock_guard<std::mutex> lock(stat_mu);
	last_blas_math = mode;
	return BLAS_OK;
}
static int fake_cublasGetVersion_v2(handle *, int *v)
{
	*v = 130000;
	return BLAS_OK;
}

static int gemm(int ta, int tb, int m, int n, int k, const float *alpha, uint64_t ap, int lda, int64_t sa, uint64_t bp,
		int ldb, int64_t sb, const float *beta, uint64_t cp, int ldc, int64_t sc, int batch)
{
	if (m < 0 || n < 0 || k < 0 || batch < 0 || ta < 0 || ta > 1 || tb < 0 || tb > 1)
		return BLAS_INVALID_VALUE;
	int ar = ta ? k : m, br = tb ? n : k;
	int ac = ta ? m : k, bc = tb ? k : n;
	if (lda < (ar > 1 ? ar : 1) || ldb < (br > 1 ? br : 1) || ldc < (m > 1 ? m : 1))
		return BLAS_INVALID_VALUE;
	for (int z = 0; z < batch; z++) {
		float *c = host(cp + 4 * (uint64_t)(z * sc), (int64_t)4 * ((int64_t)(n - 1) * ldc + m));
		float *a = k ? host(ap + 4 * (uint64_t)(z * sa), (int64_t)4 * ((int64_t)(ac - 1) * lda + ar)) : nullptr;
		float *b = k ? host(bp + 4 * (uint64_t)(z * sb), (int64_t)4 * ((int64_t)(bc - 1) * ldb + br)) : nullptr;
		if (!c || (k && (!a || !b)))
			return BLAS_INVALID_VALUE;
		for (int j = 0; j < n; j++)
			for (int i = 0; i < m; i++) {
				double s = 0;
				for (int l = 0; l < k; l++) {
					double av = ta ? a[(int64_t)i * lda + l] : a[(int64_t)l * lda + i];
					double bv = tb ? b[(int64_t)l * ldb + j] : b[(int64_t)j * ldb + l];
					s += av * bv;
				}
				put(c[(int64_t)j * ldc + i], s, *alpha, *beta);
			}
	}
	return BLAS_OK;
}

static int fake_cublasSgemm_v2(handle *, int ta, int tb, int m, int n, int k, const float *alpha, uint64_t a, int lda,
			       uint64_t b, int ldb, const float *beta, uint64_t c, int ldc)
{
	count("cublasSgemm_v2");
	return gemm(ta, tb, m, n, k, alpha, a, lda, 0, b, ldb, 0, beta, c, ldc, 0, 1);
}

static int fake_cublasSgemmStridedBatched(handle *, int ta, int tb, int m, int n, int k, const float *alpha, uint64_t a,
					  int lda, long long sa, uint64_t b, int ldb, long long sb, const float *beta,
					  uint64_t c, int ldc, long long sc, int batch)
{
	count("cublasSgemmStridedBatched");
	return gemm(ta, tb, m, n, k, alpha, a, lda, sa, b, ldb, sb, beta, c, ldc, sc, batch);
}

// emu_fake_sym returns the fake entry point called name, or 0: the
// symbol table of the fake libraries.
uintptr_t emu_fake_sym(const char *name)
{
#define S(fn)                                                                                      \
	if (strcmp(name, #fn) == 0)                                                                \
		return (uintptr_t)&fake_##fn;
	S(cudnnGetVersion)
	S(cudnnGetErrorString)
	S(cudnnCreate)
	S(cudnnDestroy)
	S(cudnnSetStream)
	S(cudnnCreateTensorDescriptor)
	S(cudnnSetTensor4dDescriptorEx)
	S(cudnnDestroyTensorDescriptor)
	S(cudnnCreateFilterDescriptor)
	S(cudnnSetFilter4dDescriptor)
	S(cudnnDestroyFilterDescriptor)
	S(cudnnCreateConvolutionDescriptor)
	S(cudnnSetConvolution2dDescriptor)
	S(cudnnSetConvolutionMathType)
	S(cudnnDestroyConvolutionDescriptor)
	S(cudnnCreateActivationDescriptor)
	S(cudnnSetActivationDescriptor)
	S(cudnnDestroyActivationDescriptor)
	S(cudnnGetConvolutionForwardAlgorithm_v7)
	S(cudnnGetConvolutionBackwardDataAlgorithm_v7)
	S(cudnnGetConvolutionBackwardFilterAlgorithm_v7)
	S(cudnnConvolutionForward)
	S(cudnnConvolutionBackwardData)
	S(cudnnConvolutionBackwardFilter)
	S(cudnnConvolutionBackwardBias)
	S(cudnnAddTensor)
	S(cudnnActivationForward)
	S(cublasCreate_v2)
	S(cublasDestroy_v2)
	S(cublasSetStream_v2)
	S(cublasSetMathMode)
	S(cublasGetVersion_v2)
	S(cublasSgemm_v2)
	S(cublasSgemmStridedBatched)
#undef S
	return 0;
}

// emu_fake_calls returns how often the fake function name was called.
long emu_fake_calls(const char *name)
{
	std::lock_guard<std::mutex> lock(stat_mu);
	auto it = calls.find(name);
	return it == calls.end() ? 0 : it->second;
}

// emu_fake_modes returns the last math modes and streams set.
void emu_fake_modes(long *dnn_math, long *blas_math, uint64_t *dnn_stream, uint64_t *blas_stream)
{
	std::lock_guard<std::mutex> lock(stat_mu);
	*dnn_math = last_dnn_math;
	*blas_math = last_blas_math;
	*dnn_stream = last_dnn_stream;
	*blas_stream = last_blas_stream;
}

} // extern "C"

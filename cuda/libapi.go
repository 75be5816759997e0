package cuda

import (
	"fmt"

	"github.com/pkg/errors"
)

// The entry points of cuDNN 9 (legacy convolution API) and cuBLAS v2 that
// Device calls, as purego-bound Go functions. Handles, descriptors and
// device pointers are uintptr; size_t is uintptr; enums and int are int32.

// cuDNN constants (cudnn_graph.h, cudnn_cnn.h of cuDNN 9).
const (
	dnnFloat            = 0 // CUDNN_DATA_FLOAT
	dnnNCHW             = 0 // CUDNN_TENSOR_NCHW
	dnnCrossCorrelation = 1 // CUDNN_CROSS_CORRELATION
	dnnDefaultMath      = 0 // CUDNN_DEFAULT_MATH: tensor cores (TF32 for float) allowed
	dnnFMAMath          = 3 // CUDNN_FMA_MATH: FP32 FMA only
	dnnReLU             = 1 // CUDNN_ACTIVATION_RELU
	dnnPropagateNaN     = 1 // CUDNN_PROPAGATE_NAN
	dnnAlgoRequest      = 8 // algorithms asked of the heuristics
)

// cuBLAS constants (cublas_api.h).
const (
	blasOpN        = 0 // CUBLAS_OP_N
	blasOpT        = 1 // CUBLAS_OP_T
	blasDefault    = 0 // CUBLAS_DEFAULT_MATH (FP32)
	blasTF32Tensor = 3 // CUBLAS_TF32_TENSOR_OP_MATH
)

// algoPerf is cudnnConvolution{Fwd,BwdData,BwdFilter}AlgoPerf_t (all three
// share the layout): 48 bytes on LP64.
type algoPerf struct {
	Algo        int32
	Status      int32
	Time        float32
	_           int32
	Memory      uint64
	Determinism int32
	MathType    int32
	Reserved    [3]int32
	_           int32
}

type dnnAPI struct {
	getVersion     func() uintptr
	getErrorString func(status int32) string

	create    func(h *uintptr) int32
	destroy   func(h uintptr) int32
	setStream func(h, stream uintptr) int32

	createTensor  func(d *uintptr) int32
	setTensor4dEx func(d uintptr, dtype, n, c, h, w, ns, cs, hs, ws int32) int32
	destroyTensor func(d uintptr) int32
	createFilter  func(d *uintptr) int32
	setFilter4d   func(d uintptr, dtype, format, k, c, h, w int32) int32
	destroyFilter func(d uintptr) int32
	createConv    func(d *uintptr) int32
	setConv2d     func(d uintptr, padH, padW, u, v, dilH, dilW, mode, computeType int32) int32
	setConvMath   func(d uintptr, math int32) int32
	destroyConv   func(d uintptr) int32
	createAct     func(d *uintptr) int32
	setAct        func(d uintptr, mode, nanOpt int32, coef float64) int32
	destroyAct    func(d uintptr) int32

	fwdAlgo       func(h, x, w, conv, y uintptr, req int32, ret *int32, perf *algoPerf) int32
	bwdDataAlgo   func(h, w, dy, conv, dx uintptr, req int32, ret *int32, perf *algoPerf) int32
	bwdFilterAlgo func(h, x, dy, conv, dw uintptr, req int32, ret *int32, perf *algoPerf) int32

	fwd       func(h uintptr, alpha *float32, xd, x, wd, w, conv uintptr, algo int32, ws, wsBytes uintptr, beta *float32, yd, y uintptr) int32
	bwdData   func(h uintptr, alpha *float32, wd, w, dyd, dy, conv uintptr, algo int32, ws, wsBytes uintptr, beta *float32, dxd, dx uintptr) int32
	bwdFilter func(h uintptr, alpha *float32, xd, x, dyd, dy, conv uintptr, algo int32, ws, wsBytes uintptr, beta *float32, dwd, dw uintptr) int32
	bwdBias   func(h uintptr, alpha *float32, dyd, dy uintptr, beta *float32, dbd, db uintptr) int32
	addTensor func(h uintptr, alpha *float32, bd, b uintptr, beta *float32, yd, y uintptr) int32
	actFwd    func(h, ad uintptr, alpha *float32, xd, x uintptr, beta *float32, yd, y uintptr) int32
}

func (a *dnnAPI) table() map[string]any {
	return map[string]any{
		"cudnnGetVersion":                               &a.getVersion,
		"cudnnGetErrorString":                           &a.getErrorString,
		"cudnnCreate":                                   &a.create,
		"cudnnDestroy":                                  &a.destroy,
		"cudnnSetStream":                                &a.setStream,
		"cudnnCreateTensorDescriptor":                   &a.createTensor,
		"cudnnSetTensor4dDescriptorEx":                  &a.setTensor4dEx,
		"cudnnDestroyTensorDescriptor":                  &a.destroyTensor,
		"cudnnCreateFilterDescriptor":                   &a.createFilter,
		"cudnnSetFilter4dDescriptor":                    &a.setFilter4d,
		"cudnnDestroyFilterDescriptor":                  &a.destroyFilter,
		"cudnnCreateConvolutionDescriptor":              &a.createConv,
		"cudnnSetConvolution2dDescriptor":               &a.setConv2d,
		"cudnnSetConvolutionMathType":                   &a.setConvMath,
		"cudnnDestroyConvolutionDescriptor":             &a.destroyConv,
		"cudnnCreateActivationDescriptor":               &a.createAct,
		"cudnnSetActivationDescriptor":                  &a.setAct,
		"cudnnDestroyActivationDescriptor":              &a.destroyAct,
		"cudnnGetConvolutionForwardAlgorithm_v7":        &a.fwdAlgo,
		"cudnnGetConvolutionBackwardDataAlgorithm_v7":   &a.bwdDataAlgo,
		"cudnnGetConvolutionBackwardFilterAlgorithm_v7": &a.bwdFilterAlgo,
		"cudnnConvolutionForward":                       &a.fwd,
		"cudnnConvolutionBackwardData":                  &a.bwdData,
		"cudnnConvolutionBackwardFilter":                &a.bwdFilter,
		"cudnnConvolutionBackwardBias":                  &a.bwdBias,
		"cudnnAddTensor":                                &a.addTensor,
		"cudnnActivationForward":                        &a.actFwd,
	}
}

// check turns a cuDNN status into an error naming the call.
func (a *dnnAPI) check(status int32, call string) error {
	if status == 0 {
		return nil
	}
	return errors.Errorf("cuda: %s: %s (%d)", call, a.getErrorString(status), status)
}

type blasAPI struct {
	create       func(h *uintptr) int32
	destroy      func(h uintptr) int32
	setStream    func(h, stream uintptr) int32
	setMathMode  func(h uintptr, mode int32) int32
	getVersion   func(h uintptr, v *int32) int32
	sgemm        func(h uintptr, ta, tb, m, n, k int32, alpha *float32, a uintptr, lda int32, b uintptr, ldb int32, beta *float32, c uintptr, ldc int32) int32
	sgemmStrided func(h uintptr, ta, tb, m, n, k int32, alpha *float32, a uintptr, lda int32, sa int64,
		b uintptr, ldb int32, sb int64, beta *float32, c uintptr, ldc int32, sc int64, batch int32) int32
}

func (a *blasAPI) table() map[string]any {
	return map[string]any{
		"cublasCreate_v2":           &a.create,
		"cublasDestroy_v2":          &a.destroy,
		"cublasSetStream_v2":        &a.setStream,
		"cublasSetMathMode":         &a.setMathMode,
		"cublasGetVersion_v2":       &a.getVersion,
		"cublasSgemm_v2":            &a.sgemm,
		"cublasSgemmStridedBatched": &a.sgemmStrided,
	}
}

var blasStatus = map[int32]string{1: "CUBLAS_STATUS_NOT_INITIALIZED", 3: "CUBLAS_STATUS_ALLOC_FAILED",
	7: "CUBLAS_STATUS_INVALID_VALUE", 8: "CUBLAS_STATUS_ARCH_MISMATCH", 11: "CUBLAS_STATUS_MAPPING_ERROR",
	13: "CUBLAS_STATUS_EXECUTION_FAILED", 14: "CUBLAS_STATUS_INTERNAL_ERROR", 15: "CUBLAS_STATUS_NOT_SUPPORTED"}

func blasCheck(status int32, call string) error {
	if status == 0 {
		return nil
	}
	name, ok := blasStatus[status]
	if !ok {
		name = fmt.Sprintf("cuBLAS status %d", status)
	}
	return errors.Errorf("cuda: %s: %s (%d)", call, name, status)
}

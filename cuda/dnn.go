package cuda

import (
	"fmt"
	"io"
	"os"
	"sync/atomic"

	"github.com/pkg/errors"

	"github.com/goinception/googlenet/ops"
)

// This file sends a Device's convolutions to cuDNN and its plain GEMMs to
// cuBLAS when those libraries are loaded (UseLibraries), per layer shape,
// and falls back to the PTX kernels where they are missing or a shape is
// outside what they support.

// LibraryHost is an Executor that can run library calls (cuDNN, cuBLAS)
// in order with its launches: GPU (on the thread its context is current
// on, with its stream) and the emulation (with the fake libraries).
type LibraryHost interface {
	Executor
	// Stream returns the stream the executor launches on (a CUstream),
	// which the libraries are given, so their kernels stay in order with
	// ours.
	Stream() uintptr
	// Call runs f where library calls must run, in order with the
	// launches, and returns its error (an earlier launch's failure is
	// reported as a *LaunchError, as by any synchronous call).
	Call(what string, f func() error) error
}

// LibOptions configure UseLibraries.
type LibOptions struct {
	// StrictFP32 turns TF32 tensor-core math off in cuDNN (FMA math) and
	// cuBLAS (default math). By default TF32 is allowed, as in PyTorch.
	StrictFP32 bool
	// WorkspaceBytes bounds a convolution's cuDNN workspace (taken from
	// the device pool); 0 means the Device's ScratchBytes. An algorithm
	// needing more is not chosen.
	WorkspaceBytes int64
	// Log receives one line per convolution shape saying which path runs
	// it, and one for the GEMMs; nil means os.Stderr.
	Log io.Writer
}

type libState struct {
	libs        *Libraries
	host        LibraryHost
	dnnH, blasH uintptr
	act         uintptr // the ReLU activation descriptor
	opts        LibOptions
	plans       map[ops.ConvGeom]*convPlan
	gemmLogged  atomic.Bool
	ws          Ptr
	wsBytes     int64
}

// algoChoice is one chosen cuDNN algorithm and its workspace.
type algoChoice struct {
	algo int32
	ws   uint64
}

// convPlan is how one convolution shape runs: cuDNN (with its descriptors
// and algorithms) or the PTX kernels (reason says why).
type convPlan struct {
	dnn    bool
	reason string
	x, yc  uintptr // tensor descriptors: input, contiguous output
	bias   uintptr // [1,K,1,1]
	w      uintptr
	conv   uintptr
	ys     map[int]uintptr // output descriptors by image stride (channel views)

	fwd, bwdData, bwdFilter algoChoice
}

// UseLibraries makes d run convolutions through cuDNN and plain GEMMs
// through cuBLAS where libs has them, on d's executor, which must be a
// LibraryHost. It creates the handles and binds them to the executor's
// stream. Layers cuDNN cannot run, or all of them when it is missing, stay
// on the PTX kernels.
func (d *Device) UseLibraries(libs *Libraries, o LibOptions) error {
	host, ok := d.ex.(LibraryHost)
	if !ok {
		return errors.Errorf("cuda: executor %s cannot run library calls", d.ex.Name())
	}
	if o.Log == nil {
		o.Log = os.Stderr
	}
	if o.WorkspaceBytes <= 0 {
		o.WorkspaceBytes = d.ScratchBytes
	}
	s := &libState{libs: libs, host: host, opts: o, plans: map[ops.ConvGeom]*convPlan{}}
	err := host.Call("library set-up", func() error {
		if libs.DNN() {
			a := libs.dnn
			if err := a.check(a.create(&s.dnnH), "cudnnCreate"); err != nil {
				return err
			}
			if err := a.check(a.setStream(s.dnnH, host.Stream()), "cudnnSetStream"); err != nil {
				return err
			}
			if err := a.check(a.createAct(&s.act), "cudnnCreateActivationDescriptor"); err != nil {
				return err
			}
			if err := a.check(a.setAct(s.act, dnnReLU, dnnPropagateNaN, 0), "cudnnSetActivationDescriptor"); err != nil {
				return err
			}
		}
		if libs.BLAS() {
			b := libs.blas
			if err := blasCheck(b.create(&s.blasH), "cublasCreate"); err != nil {
				return err
			}
			if err := blasCheck(b.setStream(s.blasH, host.Stream()), "cublasSetStream"); err != nil {
				return err
			}
			mode := int32(blasTF32Tensor)
			if o.StrictFP32 {
				mode = blasDefault
			}
			if err := blasCheck(b.setMathMode(s.blasH, mode), "cublasSetMathMode"); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		s.destroy()
		return err
	}
	d.mu.Lock()
	old := d.libp.Swap(s)
	d.mu.Unlock()
	if old != nil {
		if old.ws != 0 {
			_ = d.pool.Put(old.ws)
		}
		if err := old.destroy(); err != nil {
			return err
		}
	}
	math := "TF32 allowed"
	if o.StrictFP32 {
		math = "strict FP32"
	}
	dnn, blas := "cuDNN not loaded", "cuBLAS not loaded"
	if libs.DNN() {
		dnn = fmt.Sprintf("cuDNN %d.%d.%d (%s)", libs.DNNVersion/10000, libs.DNNVersion/100%100, libs.DNNVersion%100, libs.DNNPath)
	}
	if libs.BLAS() {
		blas = "cuBLAS (" + libs.BLASPath + ")"
	}
	fmt.Fprintf(o.Log, "cuda: %s, %s, %s\n", dnn, blas, math)
	for _, n := range libs.Notes {
		fmt.Fprintf(o.Log, "cuda: %s\n", n)
	}
	return nil
}

// destroy releases the handles and descriptors (on the host's thread).
func (s *libState) destroy() error {
	return s.host.Call("library tear-down", func() error {
		if a := s.libs.dnn; a != nil {
			for _, p := range s.plans {
				p.release(a)
			}
			if s.act != 0 {
				a.destroyAct(s.act)
			}
			if s.dnnH != 0 {
				a.destroy(s.dnnH)
			}
		}
		if b := s.libs.blas; b != nil && s.blasH != 0 {
			b.destroy(s.blasH)
		}
		s.plans, s.act, s.dnnH, s.blasH = nil, 0, 0, 0
		return nil
	})
}

func (p *convPlan) release(a *dnnAPI) {
	for _, t := range []uintptr{p.x, p.yc, p.bias} {
		if t != 0 {
			a.destroyTensor(t)
		}
	}
	for _, t := range p.ys {
		if t != p.yc {
			a.destroyTensor(t)
		}
	}
	if p.w != 0 {
		a.destroyFilter(p.w)
	}
	if p.conv != 0 {
		a.destroyConv(p.conv)
	}
}

func geomString(g ops.ConvGeom) string {
	sh, _ := strides(g)
	return fmt.Sprintf("%dx%dx%dx%d/%d pad %d,%d on [%d,%d,%d,%d]", g.K, g.C, g.R, g.S, sh, g.PadTop, g.PadLeft, g.N, g.C, g.H, g.W)
}

// plan returns the plan of g, making (and logging) it on first use; d.mu
// must be held.
func (d *Device) plan(g ops.ConvGeom) *convPlan {
	s := d.libp.Load()
	if p, ok := s.plans[g]; ok {
		return p
	}
	p := &convPlan{ys: map[int]uintptr{}}
	if err := s.makePlan(g, p); err != nil {
		p.release(s.libs.dnn)
		*p = convPlan{reason: err.Error()}
	}
	s.plans[g] = p
	if p.dnn {
		fmt.Fprintf(s.opts.Log, "cuda: conv %s: cuDNN (forward algo %d, backward-data algo %d, backward-filter algo %d, workspace %.1f MiB)\n",
			geomString(g), p.fwd.algo, p.bwdData.algo, p.bwdFilter.algo,
			float64(max(p.fwd.ws, p.bwdData.ws, p.bwdFilter.ws))/(1<<20))
	} else {
		fmt.Fprintf(s.opts.Log, "cuda: conv %s: PTX kernels (%s)\n", geomString(g), p.reason)
	}
	return p
}

// makePlan sets up cuDNN for g or says why it cannot run it.
func (s *libState) makePlan(g ops.ConvGeom, p *convPlan) error {
	a := s.libs.dnn
	if a == nil {
		return errors.New("cuDNN not loaded")
	}
	sh, sw := strides(g)
	// cuDNN pads both sides alike: the geometry must be what symmetric
	// padding gives.
	if (g.H+2*g.PadTop-g.R)/sh+1 != g.OutH || (g.W+2*g.PadLeft-g.S)/sw+1 != g.OutW || g.H+2*g.PadTop < g.R || g.W+2*g.PadLeft < g.S {
		return errors.New("asymmetric padding, which cuDNN does not support")
	}
	return s.host.Call("cuDNN plan", func() error {
		chk := a.check
		for _, t := range []*uintptr{&p.x, &p.yc, &p.bias} {
			if err := chk(a.createTensor(t), "cudnnCreateTensorDescriptor"); err != nil {
				return err
			}
		}
		ohw := g.OutH * g.OutW
		if err := chk(a.setTensor4dEx(p.x, dnnFloat, int32(g.N), int32(g.C), int32(g.H), int32(g.W),
			int32(g.C*g.H*g.W), int32(g.H*g.W), int32(g.W), 1), "cudnnSetTensor4dDescriptorEx(x)"); err != nil {
			return err
		}
		if err := chk(a.setTensor4dEx(p.yc, dnnFloat, int32(g.N), int32(g.K), int32(g.OutH), int32(g.OutW),
			int32(g.K*ohw), int32(ohw), int32(g.OutW), 1), "cudnnSetTensor4dDescriptorEx(y)"); err != nil {
			return err
		}
		p.ys[g.K*ohw] = p.yc
		if err := chk(a.setTensor4dEx(p.bias, dnnFloat, 1, int32(g.K), 1, 1, int32(g.K), 1, 1, 1),
			"cudnnSetTensor4dDescriptorEx(bias)"); err != nil {
			return err
		}
		if err := chk(a.createFilter(&p.w), "cudnnCreateFilterDescriptor"); err != nil {
			return err
		}
		if err := chk(a.setFilter4d(p.w, dnnFloat, dnnNCHW, int32(g.K), int32(g.C), int32(g.R), int32(g.S)),
			"cudnnSetFilter4dDescriptor"); err != nil {
			return err
		}
		if err := chk(a.createConv(&p.conv), "cudnnCreateConvolutionDescriptor"); err != nil {
			return err
		}
		if err := chk(a.setConv2d(p.conv, int32(g.PadTop), int32(g.PadLeft), int32(sh), int32(sw), 1, 1,
			dnnCrossCorrelation, dnnFloat), "cudnnSetConvolution2dDescriptor"); err != nil {
			return err
		}
		math := int32(dnnDefaultMath)
		if s.opts.StrictFP32 {
			math = dnnFMAMath
		}
		if err := chk(a.setConvMath(p.conv, math), "cudnnSetConvolutionMathType"); err != nil {
			return err
		}
		var perf [dnnAlgoRequest]algoPerf
		var n int32
		pick := func(what string, status int32) (algoChoice, error) {
			if err := chk(status, what); err != nil {
				return algoChoice{}, err
			}
			for _, r := range perf[:min(int(n), len(perf))] {
				if r.Status == 0 && int64(r.Memory) <= s.opts.WorkspaceBytes {
					return algoChoice{algo: r.Algo, ws: r.Memory}, nil
				}
			}
			return algoChoice{}, errors.Errorf("%s: no algorithm within the %d MiB workspace bound", what, s.opts.WorkspaceBytes>>20)
		}
		var err error
		if p.fwd, err = pick("cudnnGetConvolutionForwardAlgorithm_v7",
			a.fwdAlgo(s.dnnH, p.x, p.w, p.conv, p.yc, dnnAlgoRequest, &n, &perf[0])); err != nil {
			return err
		}
		if p.bwdData, err = pick("cudnnGetConvolutionBackwardDataAlgorithm_v7",
			a.bwdDataAlgo(s.dnnH, p.w, p.yc, p.conv, p.x, dnnAlgoRequest, &n, &perf[0])); err != nil {
			return err
		}
		if p.bwdFilter, err = pick("cudnnGetConvolutionBackwardFilterAlgorithm_v7",
			a.bwdFilterAlgo(s.dnnH, p.x, p.yc, p.conv, p.w, dnnAlgoRequest, &n, &perf[0])); err != nil {
			return err
		}
		p.dnn = true
		return nil
	})
}

// yDesc returns the output descriptor for image stride stride; on the
// host's thread.
func (p *convPlan) yDesc(a *dnnAPI, g ops.ConvGeom, stride int) (uintptr, error) {
	if t, ok := p.ys[stride]; ok {
		return t, nil
	}
	var t uintptr
	if err := a.check(a.createTensor(&t), "cudnnCreateTensorDescriptor"); err != nil {
		return 0, err
	}
	ohw := g.OutH * g.OutW
	if err := a.check(a.setTensor4dEx(t, dnnFloat, int32(g.N), int32(g.K), int32(g.OutH), int32(g.OutW),
		int32(stride), int32(ohw), int32(g.OutW), 1), "cudnnSetTensor4dDescriptorEx(y view)"); err != nil {
		a.destroyTensor(t)
		return 0, err
	}
	p.ys[stride] = t
	return t, nil
}

// workspace returns a pool buffer of at least bytes bytes (0 for none);
// d.mu must be held.
func (d *Device) workspace(bytes uint64) (Ptr, error) {
	s := d.libp.Load()
	if bytes == 0 {
		return 0, nil
	}
	if s.wsBytes >= int64(bytes) {
		return s.ws, nil
	}
	if s.ws != 0 {
		if err := d.pool.Put(s.ws); err != nil {
			return 0, err
		}
		s.ws, s.wsBytes = 0, 0
	}
	p, err := d.pool.Get(int64(bytes))
	if err != nil {
		return 0, errors.Wrap(err, "cuda: cuDNN workspace")
	}
	s.ws, s.wsBytes = p, sizeClass(int64(bytes))
	return p, nil
}

var one, zero = float32(1), float32(0)

// dnnPrep gets a cuDNN call for g ready: the library state, g's plan and
// a workspace for the algorithm that pick chooses from it. s is nil when
// the PTX kernels run g (no libraries, or a shape cuDNN cannot run).
func (d *Device) dnnPrep(g ops.ConvGeom, pick func(*convPlan) algoChoice) (s *libState, p *convPlan, ws Ptr, err error) {
	if s = d.libp.Load(); s == nil {
		return nil, nil, 0, nil
	}
	if p = d.plan(g); !p.dnn {
		return nil, nil, 0, nil
	}
	ws, err = d.workspace(pick(p).ws)
	return s, p, ws, err
}

// dnnForward runs y = relu?(conv(x, w) + b) through cuDNN; ok false means
// the PTX kernels run g. d.mu must be held.
func (d *Device) dnnForward(g ops.ConvGeom, x, w, b, y Ptr, yStride int, relu bool) (ok bool, err error) {
	s, p, ws, err := d.dnnPrep(g, func(p *convPlan) algoChoice { return p.fwd })
	if s == nil || err != nil {
		return s != nil, err
	}
	a := s.libs.dnn
	return true, s.host.Call("cudnnConvolutionForward", func() error {
		yd, err := p.yDesc(a, g, yStride)
		if err != nil {
			return err
		}
		if err := a.check(a.fwd(s.dnnH, &one, p.x, uintptr(x), p.w, uintptr(w), p.conv, p.fwd.algo,
			uintptr(ws), uintptr(p.fwd.ws), &zero, yd, uintptr(y)), "cudnnConvolutionForward "+geomString(g)); err != nil {
			return err
		}
		if b != 0 {
			if err := a.check(a.addTensor(s.dnnH, &one, p.bias, uintptr(b), &one, yd, uintptr(y)), "cudnnAddTensor"); err != nil {
				return err
			}
		}
		if relu {
			return a.check(a.actFwd(s.dnnH, s.act, &one, yd, uintptr(y), &zero, yd, uintptr(y)), "cudnnActivationForward")
		}
		return nil
	})
}

// dnnBackwardData runs dx = convᵀ(dy, w) through cuDNN (ok false: PTX).
func (d *Device) dnnBackwardData(g ops.ConvGeom, w, dy, dx Ptr) (ok bool, err error) {
	s, p, ws, err := d.dnnPrep(g, func(p *convPlan) algoChoice { return p.bwdData })
	if s == nil || err != nil {
		return s != nil, err
	}
	a := s.libs.dnn
	return true, s.host.Call("cudnnConvolutionBackwardData", func() error {
		return a.check(a.bwdData(s.dnnH, &one, p.w, uintptr(w), p.yc, uintptr(dy), p.conv, p.bwdData.algo,
			uintptr(ws), uintptr(p.bwdData.ws), &zero, p.x, uintptr(dx)), "cudnnConvolutionBackwardData "+geomString(g))
	})
}

// dnnBackwardFilter runs dw (and db) through cuDNN (ok false: PTX).
func (d *Device) dnnBackwardFilter(g ops.ConvGeom, x, dy, dw, db Ptr) (ok bool, err error) {
	s, p, ws, err := d.dnnPrep(g, func(p *convPlan) algoChoice { return p.bwdFilter })
	if s == nil || err != nil {
		return s != nil, err
	}
	a := s.libs.dnn
	return true, s.host.Call("cudnnConvolutionBackwardFilter", func() error {
		if err := a.check(a.bwdFilter(s.dnnH, &one, p.x, uintptr(x), p.yc, uintptr(dy), p.conv, p.bwdFilter.algo,
			uintptr(ws), uintptr(p.bwdFilter.ws), &zero, p.w, uintptr(dw)), "cudnnConvolutionBackwardFilter "+geomString(g)); err != nil {
			return err
		}
		if db != 0 {
			return a.check(a.bwdBias(s.dnnH, &one, p.yc, uintptr(dy), &zero, p.bias, uintptr(db)), "cudnnConvolutionBackwardBias")
		}
		return nil
	})
}

// blasGemm runs a plain (unblocked, no epilogue) strided-batched GEMM
// through cuBLAS; ok false means the PTX kernel runs it.
func (d *Device) blasGemm(g gemmArgs) (ok bool, err error) {
	s := d.libp.Load()
	if s == nil || s.libs.blas == nil || g.aBlk != 0 || g.bBlk != 0 || g.cBlk != 0 || g.bias != 0 || g.relu != 0 {
		return false, nil
	}
	b := s.libs.blas
	if !s.gemmLogged.Swap(true) {
		fmt.Fprintf(s.opts.Log, "cuda: GEMMs without a fused epilogue: cuBLAS; with bias or ReLU: PTX sgemm\n")
	}
	op := func(t bool) int32 {
		if t {
			return blasOpT
		}
		return blasOpN
	}
	alpha, beta := g.alpha, g.beta
	// Row-major C = op(A)·op(B) is column-major Cᵀ = op(B)ᵀ·op(A)ᵀ: swap
	// the operands, keep the transpose flags.
	return true, s.host.Call("cublasSgemm", func() error {
		if g.batch == 1 {
			return blasCheck(b.sgemm(s.blasH, op(g.tb), op(g.ta), int32(g.n), int32(g.m), int32(g.k), &alpha,
				uintptr(g.b), int32(g.ldb), uintptr(g.a), int32(g.lda), &beta, uintptr(g.c), int32(g.ldc)), "cublasSgemm_v2")
		}
		return blasCheck(b.sgemmStrided(s.blasH, op(g.tb), op(g.ta), int32(g.n), int32(g.m), int32(g.k), &alpha,
			uintptr(g.b), int32(g.ldb), int64(g.sb), uintptr(g.a), int32(g.lda), int64(g.sa), &beta,
			uintptr(g.c), int32(g.ldc), int64(g.sc), int32(g.batch)), "cublasSgemmStridedBatched")
	})
}

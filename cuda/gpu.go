//go:build gpu

package cuda

import (
	"os"
	"runtime"
	"sync"
	"unsafe"

	"github.com/pkg/errors"
	"gorgonia.org/cu"
)

// Built reports whether this binary was built with the gpu tag.
const Built = true

// blocking is CUDA_LAUNCH_BLOCKING=1 (read by the driver too): every
// launch waits for its kernel, so a fault is reported as that launch's.
var blocking = os.Getenv("CUDA_LAUNCH_BLOCKING") == "1"

// GPU is an Executor on an NVIDIA GPU through the CUDA driver API
// (gorgonia.org/cu). CUDA contexts are bound to OS threads, so every driver
// call runs on one goroutine locked to its thread; the methods hand it work
// and wait. Kernels run in order on one blocking stream; copies are
// synchronous calls on the legacy default stream, which is ordered with it.
type GPU struct {
	work chan func()
	done chan struct{}

	// Owned by the worker goroutine.
	dev    cu.Device
	ctx    cu.CUContext
	stream cu.Stream
	mods   map[string]cu.Module
	fns    map[string]cu.Function
	name   string

	ctxHeld, streamMade bool // what open took, for release

	async AsyncErrors // first failure of a posted launch

	mu     sync.RWMutex // read-held while handing work over; Close takes it to close work
	closed bool
}

var _ Executor = (*GPU)(nil)

// NewGPU opens device ordinal: retains its primary context on a locked
// thread, creates a stream and loads every embedded PTX module (the driver
// JIT-compiles the compute_70 PTX for the device).
func NewGPU(ordinal int) (*GPU, error) {
	g := &GPU{work: make(chan func(), 256), done: make(chan struct{}),
		mods: map[string]cu.Module{}, fns: map[string]cu.Function{}}
	errc := make(chan error)
	go g.loop(ordinal, errc)
	// On a failed open the worker has released what it took (modules,
	// stream, the primary context) and returned.
	if err := <-errc; err != nil {
		return nil, err
	}
	return g, nil
}

func (g *GPU) loop(ordinal int, errc chan<- error) {
	runtime.LockOSThread() // never unlocked: the thread dies with the goroutine
	if err := g.open(ordinal); err != nil {
		g.release()
		errc <- err
		return
	}
	errc <- nil
	for f := range g.work {
		f()
	}
	close(g.done)
}

func (g *GPU) open(ordinal int) error {
	n, err := cu.NumDevices()
	if err != nil {
		return errors.Wrap(err, "cuda: counting devices")
	}
	if ordinal < 0 || ordinal >= n {
		return errors.Errorf("cuda: no device %d (%d present)", ordinal, n)
	}
	if g.dev, err = cu.GetDevice(ordinal); err != nil {
		return errors.Wrapf(err, "cuda: device %d", ordinal)
	}
	name, err := g.dev.Name()
	if err != nil {
		return errors.Wrap(err, "cuda: device name")
	}
	g.name = name
	if g.ctx, err = g.dev.RetainPrimaryCtx(); err != nil {
		return errors.Wrap(err, "cuda: retaining the primary context")
	}
	g.ctxHeld = true
	if err = cu.SetCurrentContext(g.ctx); err != nil {
		return errors.Wrap(err, "cuda: making the context current")
	}
	if g.stream, err = cu.MakeStream(cu.DefaultStream); err != nil {
		return errors.Wrap(err, "cuda: creating a stream")
	}
	g.streamMade = true
	for _, m := range Modules() {
		ptx, err := PTX(m)
		if err != nil {
			return err
		}
		// The JIT's error log says which PTX line the driver rejected.
		elog := &cu.JITErrorLogBuffer{Buffer: make([]byte, 16<<10)}
		mod, err := cu.LoadDataEx(ptx, elog)
		if err != nil {
			return errors.Wrapf(err, "cuda: loading PTX module %s%s", m, jitLog(elog.Buffer))
		}
		g.mods[m] = mod
	}
	for k, m := range Kernels {
		fn, err := g.mods[m].Function(k)
		if err != nil {
			return errors.Wrapf(err, "cuda: kernel %s in module %s", k, m)
		}
		g.fns[k] = fn
	}
	return nil
}

// release undoes a partial open on the worker thread: the loaded
// modules, the stream and the retained primary context, so a failed
// NewGPU leaks nothing.
func (g *GPU) release() {
	for m, mod := range g.mods {
		_ = mod.Unload()
		delete(g.mods, m)
	}
	if g.streamMade {
		_ = g.stream.Destroy()
		g.streamMade = false
	}
	if g.ctxHeld {
		_ = g.dev.ReleasePrimaryCtx()
		g.ctxHeld = false
	}
}

// jitLog formats the JIT's NUL-terminated log for an error message.
func jitLog(b []byte) string {
	for i, c := range b {
		if c == 0 {
			b = b[:i]
			break
		}
	}
	if len(b) == 0 {
		return ""
	}
	return ": JIT log: " + string(b)
}

// kernelFault reports whether err is one of the driver's sticky errors,
// which only a kernel raises: returned by a copy or an allocation, it is
// an earlier launch's failure.
func kernelFault(err error) bool {
	switch errors.Cause(err) {
	case cu.IllegalAddress, cu.LaunchFailed, cu.MisalignedAddress, cu.IllegalInstruction,
		cu.HardwareStackError, cu.Assert:
		return true
	}
	return false
}

// do runs f on the context's thread and returns its error. A failure of
// an earlier asynchronous launch (see post), or a kernel fault surfacing
// in f's driver call, is returned as a *LaunchError reported by what.
func (g *GPU) do(what string, f func() error) error {
	g.mu.RLock()
	defer g.mu.RUnlock()
	if g.closed {
		return errors.New("cuda: GPU is closed")
	}
	errc := make(chan error, 1)
	g.work <- func() {
		err := f()
		if kernelFault(err) {
			g.async.KeepFault(err)
			err = nil
		}
		errc <- g.async.Report(what, err)
	}
	return <-errc
}

// post queues f on the context's thread without waiting; its error is
// kept and returned by the next do, labelled as this launch's.
func (g *GPU) post(l Launch, f func() error) error {
	g.mu.RLock()
	defer g.mu.RUnlock()
	if g.closed {
		return errors.New("cuda: GPU is closed")
	}
	g.work <- func() { g.async.Keep(l, f()) }
	return nil
}

// Name returns the device name.
func (g *GPU) Name() string { return g.name }

// Alloc allocates device memory with cuMemAlloc (never managed memory).
func (g *GPU) Alloc(bytes int64) (Ptr, error) {
	if bytes <= 0 {
		return 0, errors.Errorf("cuda: bad allocation size %d", bytes)
	}
	var p cu.DevicePtr
	err := g.do("cuMemAlloc", func() (err error) {
		p, err = cu.MemAlloc(bytes)
		return errors.Wrapf(err, "cuda: cuMemAlloc(%d)", bytes)
	})
	// With a LaunchError the allocation itself may have succeeded: the
	// pointer comes back with the error, and Pool keeps it.
	return Ptr(p), err
}

// Free releases memory from Alloc (after the stream's queued work).
func (g *GPU) Free(p Ptr) error {
	return g.do("cuMemFree", func() error {
		if err := g.stream.Synchronize(); err != nil {
			return errors.Wrap(err, "cuda: synchronising before free")
		}
		return errors.Wrap(cu.MemFree(cu.DevicePtr(p)), "cuda: cuMemFree")
	})
}

func upload[T float32 | int32](g *GPU, dst Ptr, src []T) error {
	if len(src) == 0 {
		return nil
	}
	return g.do("upload", func() error {
		// cuMemcpyHtoD runs on the legacy default stream, which our
		// (blocking) stream synchronises with, so the copy is ordered after
		// earlier kernels and before later ones. From pageable memory it
		// returns once src is staged: the driver keeps no pointer into Go
		// memory after the call (cgo's rule).
		err := cu.MemcpyHtoD(cu.DevicePtr(dst), unsafe.Pointer(&src[0]), int64(len(src))*4)
		return errors.Wrapf(err, "cuda: upload of %d values", len(src))
	})
}

func download[T float32 | int32](g *GPU, dst []T, src Ptr) error {
	if len(dst) == 0 {
		return nil
	}
	return g.do("download", func() error {
		// Synchronous: waits for the earlier kernels (legacy default stream
		// semantics) and for the copy itself.
		err := cu.MemcpyDtoH(unsafe.Pointer(&dst[0]), cu.DevicePtr(src), int64(len(dst))*4)
		return errors.Wrapf(err, "cuda: download of %d values", len(dst))
	})
}

// Upload copies src to device memory at dst.
func (g *GPU) Upload(dst Ptr, src []float32) error { return upload(g, dst, src) }

// UploadInt32 copies src to device memory at dst.
func (g *GPU) UploadInt32(dst Ptr, src []int32) error { return upload(g, dst, src) }

// Download copies device memory at src into dst and waits for it.
func (g *GPU) Download(dst []float32, src Ptr) error { return download(g, dst, src) }

// DownloadInt32 copies device memory at src into dst and waits for it.
func (g *GPU) DownloadInt32(dst []int32, src Ptr) error { return download(g, dst, src) }

// Launch queues the kernel on the stream (cuLaunchKernel) without waiting
// for the driver call: the caller runs ahead while the context's thread
// issues launches. A failed cuLaunchKernel, like a kernel failure the
// driver reports late, surfaces at the next Sync, copy or allocation.
func (g *GPU) Launch(l Launch) error {
	if err := l.Validate(); err != nil {
		return err
	}
	if _, ok := g.fns[l.Kernel]; !ok {
		return errors.Errorf("cuda: unknown kernel %q", l.Kernel)
	}
	return g.post(l, func() error {
		fn, ok := g.fns[l.Kernel]
		if !ok {
			return errors.Errorf("cuda: unknown kernel %q", l.Kernel)
		}
		slots := make([]uint64, len(l.Args))
		params := make([]unsafe.Pointer, len(l.Args))
		for i, a := range l.Args {
			slots[i] = a.Slot()
			params[i] = unsafe.Pointer(&slots[i])
		}
		// cu v0.9.6: grid x, y, z, then block x, y, z, shared bytes, stream,
		// parameters (v0.9.4's helper swapped the block dimensions).
		err := fn.Launch(l.Grid.X, l.Grid.Y, l.Grid.Z, l.Block.X, l.Block.Y, l.Block.Z, 0, g.stream, params)
		if err == nil && blocking {
			// CUDA_LAUNCH_BLOCKING=1: wait for each kernel, so a fault is
			// this launch's.
			err = g.stream.Synchronize()
		}
		return errors.Wrapf(err, "cuda: cuLaunchKernel %v", l)
	})
}

// Sync waits for the stream and reports any asynchronous failure.
func (g *GPU) Sync() error {
	return g.do("Sync", func() error { return errors.Wrap(g.stream.Synchronize(), "cuda: stream synchronize") })
}

// MemInfo returns the device's free and total memory in bytes.
func (g *GPU) MemInfo() (free, total int64, err error) {
	err = g.do("cuMemGetInfo", func() (err error) {
		free, total, err = cu.MemInfo()
		return errors.Wrap(err, "cuda: cuMemGetInfo")
	})
	return free, total, err
}

// Close synchronises, unloads the modules, destroys the stream and stops
// the worker. Memory still allocated is released with the context.
func (g *GPU) Close() error {
	err := g.do("Close", func() error {
		var first error
		keep := func(err error, what string) {
			if err != nil && first == nil {
				first = errors.Wrap(err, what)
			}
		}
		keep(g.stream.Synchronize(), "cuda: close: synchronize")
		for m, mod := range g.mods {
			keep(mod.Unload(), "cuda: close: unloading a module")
			delete(g.mods, m)
		}
		keep(g.stream.Destroy(), "cuda: close: destroying the stream")
		g.streamMade = false
		keep(g.dev.ReleasePrimaryCtx(), "cuda: close: releasing the primary context")
		g.ctxHeld = false
		return first
	})
	g.mu.Lock()
	if !g.closed {
		g.closed = true
		close(g.work)
	}
	g.mu.Unlock()
	<-g.done
	return err
}

// Stream returns the CUstream the kernels run on, for cuDNN and cuBLAS
// (see LibraryHost).
func (g *GPU) Stream() uintptr { return uintptr(unsafe.Pointer(g.stream.C())) }

// Call runs a library call on the context's thread and waits for the call
// (not for its kernels, which queue on the stream like ours).
func (g *GPU) Call(what string, f func() error) error {
	return g.do(what, func() error {
		err := f()
		if err == nil && blocking {
			err = errors.Wrapf(g.stream.Synchronize(), "cuda: %s", what)
		}
		return err
	})
}

var _ LibraryHost = (*GPU)(nil)

// NewEngine returns an Engine on GPU 0 with the default options (cuDNN
// and cuBLAS when found, TF32 allowed); its Close also closes the GPU.
func NewEngine() (*Engine, error) { return NewEngineWith(EngineOptions{}) }

// NewEngineWith returns an Engine on GPU 0 configured by o; its Close
// also closes the GPU.
func NewEngineWith(o EngineOptions) (*Engine, error) {
	g, err := NewGPU(0)
	if err != nil {
		return nil, err
	}
	e := NewEngineOn(g)
	e.onClose = g.Close
	if !o.NoLibraries {
		if err := e.Device().UseLibraries(LoadLibraries(), o.Lib); err != nil {
			e.Close()
			return nil, err
		}
	}
	return e, nil
}

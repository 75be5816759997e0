//go:build gpu

package cuda

import (
	"runtime"
	"sync"
	"unsafe"

	"github.com/pkg/errors"
	"gorgonia.org/cu"
)

// Built reports whether this binary was built with the gpu tag.
const Built = true

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

	pending error // first failure of a posted launch (worker-owned)

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
	if err := <-errc; err != nil {
		return nil, err
	}
	return g, nil
}

func (g *GPU) loop(ordinal int, errc chan<- error) {
	runtime.LockOSThread() // never unlocked: the thread dies with the goroutine
	if err := g.open(ordinal); err != nil {
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
	if err = cu.SetCurrentContext(g.ctx); err != nil {
		return errors.Wrap(err, "cuda: making the context current")
	}
	if g.stream, err = cu.MakeStream(cu.DefaultStream); err != nil {
		return errors.Wrap(err, "cuda: creating a stream")
	}
	for _, m := range Modules() {
		ptx, err := PTX(m)
		if err != nil {
			return err
		}
		mod, err := cu.LoadData(ptx)
		if err != nil {
			return errors.Wrapf(err, "cuda: loading PTX module %s", m)
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

// do runs f on the context's thread and returns its error, or the error
// of an earlier asynchronous launch (see post) if one failed.
func (g *GPU) do(f func() error) error {
	g.mu.RLock()
	defer g.mu.RUnlock()
	if g.closed {
		return errors.New("cuda: GPU is closed")
	}
	errc := make(chan error, 1)
	g.work <- func() {
		err := f()
		if g.pending != nil {
			err, g.pending = g.pending, nil
		}
		errc <- err
	}
	return <-errc
}

// post queues f on the context's thread without waiting; its error is
// kept and returned by the next do.
func (g *GPU) post(f func() error) error {
	g.mu.RLock()
	defer g.mu.RUnlock()
	if g.closed {
		return errors.New("cuda: GPU is closed")
	}
	g.work <- func() {
		if err := f(); err != nil && g.pending == nil {
			g.pending = err
		}
	}
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
	err := g.do(func() (err error) {
		p, err = cu.MemAlloc(bytes)
		return errors.Wrapf(err, "cuda: cuMemAlloc(%d)", bytes)
	})
	return Ptr(p), err
}

// Free releases memory from Alloc (after the stream's queued work).
func (g *GPU) Free(p Ptr) error {
	return g.do(func() error {
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
	return g.do(func() error {
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
	return g.do(func() error {
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
	return g.post(func() error {
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
		return errors.Wrapf(err, "cuda: cuLaunchKernel %v", l)
	})
}

// Sync waits for the stream and reports any asynchronous failure.
func (g *GPU) Sync() error {
	return g.do(func() error { return errors.Wrap(g.stream.Synchronize(), "cuda: stream synchronize") })
}

// MemInfo returns the device's free and total memory in bytes.
func (g *GPU) MemInfo() (free, total int64, err error) {
	err = g.do(func() (err error) {
		free, total, err = cu.MemInfo()
		return errors.Wrap(err, "cuda: cuMemGetInfo")
	})
	return free, total, err
}

// Close synchronises, unloads the modules, destroys the stream and stops
// the worker. Memory still allocated is released with the context.
func (g *GPU) Close() error {
	err := g.do(func() error {
		var first error
		keep := func(err error, what string) {
			if err != nil && first == nil {
				first = errors.Wrap(err, what)
			}
		}
		keep(g.stream.Synchronize(), "cuda: close: synchronize")
		for _, m := range g.mods {
			keep(m.Unload(), "cuda: close: unloading a module")
		}
		keep(g.stream.Destroy(), "cuda: close: destroying the stream")
		keep(g.dev.ReleasePrimaryCtx(), "cuda: close: releasing the primary context")
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

// NewEngine returns an Engine on GPU 0; its Close also closes the GPU.
func NewEngine() (*Engine, error) {
	g, err := NewGPU(0)
	if err != nil {
		return nil, err
	}
	e := NewEngineOn(g)
	e.onClose = g.Close
	return e, nil
}

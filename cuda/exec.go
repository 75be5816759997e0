package cuda

import (
	"math/bits"
	"sync"

	"github.com/pkg/errors"
)

// Executor is the memory and launch interface under Device: the CUDA driver
// in a `gpu` build (see NewGPU), host memory and the CPU emulation of the
// kernels in package cuda/emu. Operations are ordered: a launch sees every
// earlier copy and launch, and a download waits for every earlier launch.
type Executor interface {
	Name() string
	// Alloc returns an uninitialised buffer of bytes bytes (> 0).
	Alloc(bytes int64) (Ptr, error)
	Free(p Ptr) error
	// Upload copies host values into device memory at dst.
	Upload(dst Ptr, src []float32) error
	UploadInt32(dst Ptr, src []int32) error
	// Download copies device memory at src into dst.
	Download(dst []float32, src Ptr) error
	DownloadInt32(dst []int32, src Ptr) error
	Launch(l Launch) error
	// Sync waits for all queued work and reports a deferred failure.
	Sync() error
}

// Pool hands out device buffers from size classes (4 KiB, then eight
// classes per power of two) and keeps freed ones for reuse, so a training loop allocates device
// memory only in its first step. Buffers are plain allocations (never
// managed memory). Safe for concurrent use.
type Pool struct {
	ex   Executor
	mu   sync.Mutex
	free map[int64][]Ptr
	size map[Ptr]int64 // class of every live buffer
	held int64         // bytes allocated from the executor
	peak int64         // the most held at any time
	used int64         // bytes of live (handed-out) buffers
	top  int64         // the most used at any time
}

// NewPool returns an empty pool over ex.
func NewPool(ex Executor) *Pool {
	return &Pool{ex: ex, free: map[int64][]Ptr{}, size: map[Ptr]int64{}}
}

func sizeClass(bytes int64) int64 {
	if bytes <= 4096 {
		return 4096
	}
	// Eight classes per power of two: at most 12.5% rounding waste.
	step := int64(1) << (bits.Len64(uint64(bytes-1)) - 4)
	return (bytes + step - 1) / step * step
}

// Get returns a buffer of at least bytes bytes (contents undefined).
func (p *Pool) Get(bytes int64) (Ptr, error) {
	if bytes <= 0 {
		return 0, errors.Errorf("cuda: pool: bad size %d", bytes)
	}
	c := sizeClass(bytes)
	p.mu.Lock()
	if l := p.free[c]; len(l) > 0 {
		ptr := l[len(l)-1]
		p.free[c] = l[:len(l)-1]
		p.size[ptr] = c
		p.use(c)
		p.mu.Unlock()
		return ptr, nil
	}
	p.mu.Unlock()
	ptr, err := p.ex.Alloc(c)
	if err != nil {
		if ptr != 0 {
			// The allocation succeeded but the call reported an earlier
			// launch's failure (LaunchError): keep the buffer for reuse
			// instead of leaking it.
			p.mu.Lock()
			p.held += c
			p.peak = max(p.peak, p.held)
			p.free[c] = append(p.free[c], ptr)
			p.mu.Unlock()
		}
		return 0, errors.Wrapf(err, "cuda: pool: allocating %d bytes", c)
	}
	p.mu.Lock()
	p.size[ptr] = c
	p.held += c
	p.peak = max(p.peak, p.held)
	p.use(c)
	p.mu.Unlock()
	return ptr, nil
}

// use counts c more bytes handed out; p.mu must be held.
func (p *Pool) use(c int64) {
	p.used += c
	p.top = max(p.top, p.used)
}

// GetFloats returns a buffer for n float32 values.
func (p *Pool) GetFloats(n int) (Ptr, error) { return p.Get(4 * int64(max(n, 1))) }

// Put returns a buffer to the pool. Putting a pointer the pool did not hand
// out (or putting one twice) is an error.
func (p *Pool) Put(ptr Ptr) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	c, ok := p.size[ptr]
	if !ok {
		return errors.Errorf("cuda: pool: %#x is not a live pool buffer", uint64(ptr))
	}
	delete(p.size, ptr)
	p.free[c] = append(p.free[c], ptr)
	p.used -= c
	return nil
}

// Held returns the bytes the pool has allocated from the executor.
func (p *Pool) Held() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.held
}

// Stats are a pool's memory figures in bytes. Held and PeakHeld count
// what the pool allocated from the executor (free lists included: the
// figure to compare with a device's total memory use, less the context and
// the modules); InUse and PeakInUse count the buffers handed out and not
// returned, the figure PyTorch reports as max_memory_allocated (its
// caching allocator's in-use bytes; ours are rounded up to size classes).
type Stats struct {
	Held, PeakHeld, InUse, PeakInUse int64
}

// Stats returns the pool's current and peak memory.
func (p *Pool) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return Stats{Held: p.held, PeakHeld: p.peak, InUse: p.used, PeakInUse: p.top}
}

// ResetPeak sets the peaks to the current values (to measure one phase,
// such as the steps after a warm-up).
func (p *Pool) ResetPeak() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.peak, p.top = p.held, p.used
}

// Release frees every buffer in the free lists (live buffers stay).
func (p *Pool) Release() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	var first error
	for c, l := range p.free {
		for _, ptr := range l {
			if err := p.ex.Free(ptr); err != nil && first == nil {
				first = errors.Wrap(err, "cuda: pool: free")
			}
			p.held -= c
		}
		delete(p.free, c)
	}
	return first
}

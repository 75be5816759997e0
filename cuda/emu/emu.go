//go:build cgo

package emu

/*
#cgo CXXFLAGS: -std=c++17 -O2 -Wall
#cgo LDFLAGS: -lpthread
#include <stdlib.h>
#include "emu.h"
*/
import "C"

import (
	"math"
	"sync"
	"unsafe"

	"github.com/pkg/errors"

	"github.com/goinception/googlenet/cuda"
)

const (
	handleShift = 40 // Ptr = handle<<40 | byte offset
	guardBytes  = 4096
	guardByte   = 0xA5
)

type buffer struct {
	base  unsafe.Pointer // start of the front guard zone (C memory)
	bytes int64          // usable size
}

func (b buffer) data() unsafe.Pointer { return unsafe.Add(b.base, guardBytes) }

// Executor is a cuda.Executor on host memory that runs kernels with the CPU
// emulation. Safe for concurrent use; launches are serialised.
//
// With Async set, launches behave as on a GPU: a failed launch returns
// nil and its error is reported, as a *cuda.LaunchError naming the launch,
// by the next synchronous call (Alloc, Free, a copy, Sync); an Alloc that
// reports it still returns its buffer. The tests of error paths use it.
type Executor struct {
	Async bool

	mu    sync.Mutex
	bufs  map[uint64]buffer
	next  uint64
	async cuda.AsyncErrors
}

var _ cuda.Executor = (*Executor)(nil)

// New returns an empty emulated device.
func New() *Executor { return &Executor{bufs: map[uint64]buffer{}, next: 1} }

// Name returns "emu".
func (*Executor) Name() string { return "emu" }

// Alloc returns a NaN-filled buffer with guard zones on both sides.
func (e *Executor) Alloc(bytes int64) (cuda.Ptr, error) {
	if bytes <= 0 || bytes >= 1<<handleShift {
		return 0, errors.Errorf("emu: bad allocation size %d", bytes)
	}
	base := C.malloc(C.size_t(bytes + 2*guardBytes))
	if base == nil {
		return 0, errors.Errorf("emu: out of memory allocating %d bytes", bytes)
	}
	b := buffer{base: base, bytes: bytes}
	all := unsafe.Slice((*byte)(base), bytes+2*guardBytes)
	for i := range all {
		all[i] = guardByte
	}
	f := unsafe.Slice((*float32)(b.data()), bytes/4)
	for i := range f {
		f[i] = float32(math.NaN())
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	h := e.next
	e.next++
	e.bufs[h] = b
	C.emu_register(C.uint64_t(h<<handleShift), b.data(), C.int64_t(bytes))
	return cuda.Ptr(h << handleShift), e.async.Report("Alloc", nil)
}

// Free releases a buffer allocated by Alloc.
func (e *Executor) Free(p cuda.Ptr) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	h, off := uint64(p)>>handleShift, uint64(p)&(1<<handleShift-1)
	b, ok := e.bufs[h]
	if !ok || off != 0 {
		return errors.Errorf("emu: Free(%#x): not an allocation", uint64(p))
	}
	if err := checkGuards(h, b); err != nil {
		return err
	}
	delete(e.bufs, h)
	C.emu_unregister(C.uint64_t(h << handleShift))
	C.free(b.base)
	return e.async.Report("Free", nil)
}

// resolve returns the host address of p with n bytes available after it.
func (e *Executor) resolve(p cuda.Ptr, n int64) (unsafe.Pointer, error) {
	h, off := uint64(p)>>handleShift, int64(uint64(p)&(1<<handleShift-1))
	b, ok := e.bufs[h]
	if !ok {
		return nil, errors.Errorf("emu: %#x is not a device address", uint64(p))
	}
	if off+n > b.bytes {
		return nil, errors.Errorf("emu: %d bytes at offset %d overrun a %d-byte buffer", n, off, b.bytes)
	}
	return unsafe.Add(b.data(), off), nil
}

func checkGuards(h uint64, b buffer) error {
	all := unsafe.Slice((*byte)(b.base), b.bytes+2*guardBytes)
	for _, zone := range [][]byte{all[:guardBytes], all[guardBytes+b.bytes:]} {
		for _, v := range zone {
			if v != guardByte {
				return errors.Errorf("emu: a kernel wrote outside buffer %d (%d bytes)", h, b.bytes)
			}
		}
	}
	return nil
}

func copyIn[T float32 | int32](e *Executor, dst cuda.Ptr, src []T) error {
	if len(src) == 0 {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	d, err := e.resolve(dst, int64(len(src))*4)
	if err != nil {
		return e.async.Report("upload", errors.Wrap(err, "emu: upload"))
	}
	copy(unsafe.Slice((*T)(d), len(src)), src)
	return e.async.Report("upload", nil)
}

func copyOut[T float32 | int32](e *Executor, dst []T, src cuda.Ptr) error {
	if len(dst) == 0 {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	s, err := e.resolve(src, int64(len(dst))*4)
	if err != nil {
		return e.async.Report("download", errors.Wrap(err, "emu: download"))
	}
	copy(dst, unsafe.Slice((*T)(s), len(dst)))
	return e.async.Report("download", nil)
}

// Upload copies src to dst.
func (e *Executor) Upload(dst cuda.Ptr, src []float32) error { return copyIn(e, dst, src) }

// UploadInt32 copies src to dst.
func (e *Executor) UploadInt32(dst cuda.Ptr, src []int32) error { return copyIn(e, dst, src) }

// Download copies src to dst.
func (e *Executor) Download(dst []float32, src cuda.Ptr) error { return copyOut(e, dst, src) }

// DownloadInt32 copies src to dst.
func (e *Executor) DownloadInt32(dst []int32, src cuda.Ptr) error { return copyOut(e, dst, src) }

// Launch runs the kernel on the CPU, then checks every buffer's guard
// zones. With Async, a failure is kept for the next synchronous call.
func (e *Executor) Launch(l cuda.Launch) error {
	err := e.launch(l)
	if e.Async && err != nil {
		e.async.Keep(l, err)
		return nil
	}
	return err
}

func (e *Executor) launch(l cuda.Launch) error {
	if err := l.Validate(); err != nil {
		return err
	}
	if _, ok := cuda.Kernels[l.Kernel]; !ok {
		return errors.Errorf("emu: unknown kernel %q", l.Kernel)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	slots := make([]C.uint64_t, max(len(l.Args), 1))
	for i, a := range l.Args {
		s := a.Slot()
		if a.IsPtr() && s != 0 {
			// Pointers are checked only for existence: the kernel's own
			// extent is what the guard zones police.
			p, err := e.resolve(cuda.Ptr(s), 0)
			if err != nil {
				return errors.Wrapf(err, "emu: %v argument %d", l, i)
			}
			s = uint64(uintptr(p))
		}
		slots[i] = C.uint64_t(s)
	}
	name := C.CString(l.Kernel)
	defer C.free(unsafe.Pointer(name))
	rc := C.emu_launch(name, C.uint(l.Grid.X), C.uint(l.Grid.Y), C.uint(l.Grid.Z),
		C.uint(l.Block.X), C.uint(l.Block.Y), C.uint(l.Block.Z), &slots[0], C.int(len(l.Args)))
	switch rc {
	case 0:
	case -1:
		return errors.Errorf("emu: %v: kernel not compiled into the emulation", l)
	case -2:
		return errors.Errorf("emu: %v: wrong number of parameters", l)
	default:
		return errors.Errorf("emu: %v: failed (%d)", l, int(rc))
	}
	for h, b := range e.bufs {
		if err := checkGuards(h, b); err != nil {
			return errors.Wrapf(err, "emu: after %v", l)
		}
	}
	return nil
}

// Sync reports a kept launch failure (Async); emulated launches complete
// before Launch returns.
func (e *Executor) Sync() error { return e.async.Report("Sync", nil) }

// fakeStream is the stream handle the emulation hands the libraries; the
// fake checks it was set (FakeModes).
const fakeStream = 0x5717ea

// Stream returns the emulated stream handle (see cuda.LibraryHost).
func (*Executor) Stream() uintptr { return fakeStream }

// Call runs a library call (the fake cuDNN or cuBLAS) in order with the
// launches, then checks every buffer's guard zones. With Async, a failure
// is kept for the next synchronous call, as a launch's.
func (e *Executor) Call(what string, f func() error) error {
	err := e.call(what, f)
	if e.Async && err != nil {
		e.async.Keep(cuda.Launch{Kernel: what}, err)
		return nil
	}
	return e.async.Report(what, err)
}

func (e *Executor) call(what string, f func() error) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := f(); err != nil {
		return err
	}
	for h, b := range e.bufs {
		if err := checkGuards(h, b); err != nil {
			return errors.Wrapf(err, "emu: after %s", what)
		}
	}
	return nil
}

var _ cuda.LibraryHost = (*Executor)(nil)

// fakeSym resolves an entry point of the fake libraries (fakelib.cc).
func fakeSym(name string) (uintptr, error) {
	cs := C.CString(name)
	defer C.free(unsafe.Pointer(cs))
	if a := uintptr(C.emu_fake_sym(cs)); a != 0 {
		return a, nil
	}
	return 0, errors.Errorf("emu: the fake libraries have no %s", name)
}

// FakeLibraries returns cuda.Libraries bound to the emulation's fake cuDNN
// and cuBLAS (fakelib.cc), called through purego exactly as the real ones
// are: with dnn or blas false that library is left out.
func FakeLibraries(dnn, blas bool) (*cuda.Libraries, error) {
	l := &cuda.Libraries{}
	if dnn {
		if err := l.BindDNN("fake cuDNN (emulation)", fakeSym); err != nil {
			return nil, err
		}
	}
	if blas {
		if err := l.BindBLAS("fake cuBLAS (emulation)", fakeSym); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// FakeCalls returns how often the fake library function name was called
// in this process.
func FakeCalls(name string) int {
	cs := C.CString(name)
	defer C.free(unsafe.Pointer(cs))
	return int(C.emu_fake_calls(cs))
}

// FakeModes returns the math modes and streams last set on the fake
// libraries (-1 for a mode never set).
func FakeModes() (dnnMath, blasMath int, dnnStream, blasStream uintptr) {
	var dm, bm C.long
	var ds, bs C.uint64_t
	C.emu_fake_modes(&dm, &bm, &ds, &bs)
	return int(dm), int(bm), uintptr(ds), uintptr(bs)
}

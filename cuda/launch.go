package cuda

import (
	"fmt"
	"math"

	"github.com/pkg/errors"
)

// Ptr is an address in an Executor's memory: a device address on a GPU, an
// opaque handle-plus-offset in the CPU emulation. Byte offsets may be added
// to a Ptr inside one allocation. The zero Ptr is the null pointer (an
// absent optional argument such as a bias).
type Ptr uint64

// Add returns p advanced by n float32 elements.
func (p Ptr) Add(n int) Ptr { return p + Ptr(4*n) }

// Dim3 is a grid or block size.
type Dim3 struct{ X, Y, Z int }

// Arg is one kernel parameter in cuLaunchKernel's convention: an 8-byte
// slot read by the kernel as the parameter's type (little-endian, so int32
// and float32 values sit in the low four bytes).
type Arg struct {
	slot  uint64
	isPtr bool
}

// PtrArg passes a pointer parameter.
func PtrArg(p Ptr) Arg { return Arg{slot: uint64(p), isPtr: true} }

// Int32Arg passes an int parameter. Callers check the range (see checkInt).
func Int32Arg(v int) Arg { return Arg{slot: uint64(uint32(int32(v)))} }

// Int64Arg passes a long long parameter.
func Int64Arg(v int64) Arg { return Arg{slot: uint64(v)} }

// FloatArg passes a float parameter.
func FloatArg(v float32) Arg { return Arg{slot: uint64(math.Float32bits(v))} }

// Float64Arg passes a double parameter.
func Float64Arg(v float64) Arg { return Arg{slot: math.Float64bits(v)} }

// Uint64Arg passes an unsigned long long parameter.
func Uint64Arg(v uint64) Arg { return Arg{slot: v} }

// Slot returns the 8-byte parameter slot.
func (a Arg) Slot() uint64 { return a.slot }

// IsPtr reports whether the parameter is a pointer (an Executor may need to
// translate it).
func (a Arg) IsPtr() bool { return a.isPtr }

// Launch is one kernel launch. The same value drives the GPU
// (cuLaunchKernel) and the CPU emulation, so the emulation tests check the
// launch geometry and argument marshalling of the GPU path too.
type Launch struct {
	Module string // PTX module (file name under kernels/ without .ptx)
	Kernel string // entry point
	Grid   Dim3
	Block  Dim3
	Args   []Arg
}

// Hardware limits every launch must respect (compute capability 7.0+).
const (
	maxGridX       = 1<<31 - 1
	maxGridYZ      = 65535
	maxBlockThread = 1024
)

// Validate checks the launch against the hardware limits.
func (l Launch) Validate() error {
	g, b := l.Grid, l.Block
	switch {
	case g.X < 1 || g.Y < 1 || g.Z < 1 || b.X < 1 || b.Y < 1 || b.Z < 1:
		return errors.Errorf("cuda: %s: empty launch grid %v block %v", l.Kernel, g, b)
	case g.X > maxGridX || g.Y > maxGridYZ || g.Z > maxGridYZ:
		return errors.Errorf("cuda: %s: grid %v exceeds the limits", l.Kernel, g)
	case b.X*b.Y*b.Z > maxBlockThread:
		return errors.Errorf("cuda: %s: block %v has more than %d threads", l.Kernel, b, maxBlockThread)
	}
	return nil
}

func (l Launch) String() string {
	return fmt.Sprintf("%s.%s<<<%v,%v>>>(%d args)", l.Module, l.Kernel, l.Grid, l.Block, len(l.Args))
}

// checkInt returns an error unless every value fits a kernel's int
// parameter.
func checkInt(what string, vs ...int) error {
	for _, v := range vs {
		if v < math.MinInt32 || v > math.MaxInt32 {
			return errors.Errorf("cuda: %s: %d does not fit a 32-bit kernel parameter", what, v)
		}
	}
	return nil
}

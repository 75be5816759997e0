package cuda_test

import (
	"fmt"

	"github.com/goinception/googlenet/cuda"
	"github.com/goinception/googlenet/ops"
)

// The embedded PTX modules, one per kernel source file.
func ExampleModules() {
	fmt.Println(cuda.Modules())
	// Output: [bn conv gemm lrn misc pool]
}

// GoogLeNet's max pools are 3x3, stride 2, in ceil mode: 112 -> 56 -> 28 ->
// 14 -> 7. Floor mode would give 55.
func ExampleNewPoolGeom() {
	for _, ceil := range []bool{true, false} {
		g, err := cuda.NewPoolGeom(1, 64, 112, 112, ops.PoolOpts{KernelH: 3, KernelW: 3, StrideH: 2, StrideW: 2, CeilMode: ceil})
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("ceil=%v: %dx%d\n", ceil, g.OutH, g.OutW)
	}
	// Output:
	// ceil=true: 56x56
	// ceil=false: 55x55
}

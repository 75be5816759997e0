package cudatest_test

import (
	"fmt"

	"github.com/goinception/googlenet/cuda/cudatest"
)

// The suite's acceptance bounds, and the pooling geometries it covers.
func Example() {
	fmt.Println("forward", cudatest.FwdTol, "gradients", cudatest.GradTol)
	for _, c := range cudatest.PoolCases[:2] {
		fmt.Println(c.Name)
	}
	// Output:
	// forward 0.0001 gradients 0.001
	// 3x3/2/ceil(googlenet pool)
	// 3x3/2/floor
}

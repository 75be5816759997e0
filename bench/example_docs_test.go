package bench_test

import (
	"fmt"

	"github.com/goinception/googlenet/bench"
)

// Timing two training steps of the mini variant at batch 2 on the pure-Go
// reference engine. Times depend on the machine; what Run counted and
// checked does not.
func ExampleRun() {
	r, err := bench.Run(bench.Config{
		Variant: "mini", Mode: bench.ModeTrain, Batch: 2, Iters: 2, Warmup: -1,
		Engine: bench.EngineReference, Seed: 1,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s %s: batch %d, input %d, %d timed iterations\n", r.Variant, r.Mode, r.Batch, r.InputSize, r.Iters)
	fmt.Printf("%d multiply-adds per image (main path and auxiliary heads)\n", r.MACsPerImage)
	fmt.Println("positive rate:", r.ImgPerS > 0 && r.MsPerBatch > 0)
	fmt.Println("checked:", r.Checked)
	// Output:
	// mini train: batch 2, input 28, 2 timed iterations
	// 3250656 multiply-adds per image (main path and auxiliary heads)
	// positive rate: true
	// checked: losses and gradients finite; same input and dropout masks give the same loss, a different input a different one; loss finite every step
}

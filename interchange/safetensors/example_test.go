package safetensors_test

import (
	"fmt"
	"log"

	"github.com/goinception/googlenet/interchange/safetensors"
)

func Example() {
	w, err := safetensors.NewF32("fc.weight", []int{2, 3}, []float32{1, 2, 3, 4, 5, 6})
	if err != nil {
		log.Fatal(err)
	}
	b, err := safetensors.Marshal([]safetensors.Tensor{w}, map[string]string{"variant": "mini"})
	if err != nil {
		log.Fatal(err)
	}
	f, err := safetensors.Parse(b)
	if err != nil {
		log.Fatal(err)
	}
	t, _ := f.Tensor("fc.weight")
	v, _ := t.Float32s()
	fmt.Println(t, v, f.Metadata["variant"])
	// Output: fc.weight F32 [2 3] [1 2 3 4 5 6] mini
}

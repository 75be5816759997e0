package ops

import (
	"math"
	"runtime"
	"testing"

	"gorgonia.org/tensor"
)

// TestTensorEngineAdd checks that tensor.Add on tensors carrying
// TensorEngine gives StandardEngine's results in every mode: into a reuse
// tensor, unsafe in place, safe (allocating), increment, and float64.
func TestTensorEngineAdd(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(3))
	n := 3 * parallelMinWork
	ad, bd := make([]float32, n), make([]float32, n)
	a := tensor.New(tensor.WithShape(3, parallelMinWork), tensor.WithBacking(ad), tensor.WithEngine(TensorEngine{}))
	for i := range ad {
		ad[i], bd[i] = float32(i%97)*0.37, float32(i%89)*-1.3
	}
	b := tensor.New(tensor.WithShape(3, parallelMinWork), tensor.WithBacking(bd))
	want := make([]float32, n)
	for i := range want {
		want[i] = ad[i] + bd[i]
	}
	check := func(mode string, got tensor.Tensor) {
		t.Helper()
		g := got.Data().([]float32)
		for i := range want {
			if math.Float32bits(g[i]) != math.Float32bits(want[i]) { // one IEEE addition: the same bits
				t.Fatalf("%s: element %d = %v, want %v", mode, i, g[i], want[i])
			}
		}
	}
	before := parallelAdds.Load()
	reuse := tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(3, parallelMinWork))
	r, err := tensor.Add(a, b, tensor.WithReuse(reuse))
	if err != nil || r != tensor.Tensor(reuse) {
		t.Fatalf("reuse: %v (result %p, reuse %p)", err, r, reuse)
	}
	check("reuse", r)
	if parallelAdds.Load() != before+1 {
		t.Fatalf("tensor.Add with reuse did not reach TensorEngine.Add's parallel path")
	}
	r, err = tensor.Add(a, b)
	if err != nil || r == tensor.Tensor(a) {
		t.Fatalf("safe: %v (must not overwrite a)", err)
	}
	check("safe", r)
	inc := tensor.New(tensor.WithShape(3, parallelMinWork), tensor.WithBacking(make([]float32, n)))
	if r, err = tensor.Add(a, b, tensor.WithIncr(inc)); err != nil {
		t.Fatal(err)
	}
	check("incr", r)
	if r, err = tensor.Add(a, b, tensor.UseUnsafe()); err != nil || r != tensor.Tensor(a) {
		t.Fatalf("unsafe: %v (must return a)", err)
	}
	check("unsafe", r)

	d64 := []float64{1, 2, 3, 4}
	a64 := tensor.New(tensor.WithShape(4), tensor.WithBacking(d64), tensor.WithEngine(TensorEngine{}))
	r, err = tensor.Add(a64, tensor.New(tensor.WithShape(4), tensor.WithBacking([]float64{0.5, 0.5, 0.5, 0.5})))
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range r.Data().([]float64) {
		if math.Abs(v-(d64[i]+0.5)) > 1e-12 {
			t.Fatalf("float64: element %d = %v", i, v)
		}
	}
}

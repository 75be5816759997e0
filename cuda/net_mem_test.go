package cuda

import (
	"testing"

	"github.com/goinception/googlenet/inception"
)

// TestNetMemory builds the paper GoogLeNet's device network at batch 128 on
// an executor that only counts, and reports the device memory the Net
// holds (weights, gradients, momentum, activations and their gradients,
// scratch), so the number is known before a GPU is at hand, and the
// memory of the same network built for inference only.
func TestNetMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the paper model on the CPU")
	}
	cfg := inception.Paper()
	cfg.BatchSize = 1
	m, err := inception.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ex := &countingExec{}
	d := NewDevice(ex)
	n, err := NewNet(d, m, 128)
	if err != nil {
		t.Fatalf("%+v", err)
	}
	held := d.Pool().Held()
	t.Logf("paper GoogLeNet, batch 128: %d buffers, %.2f GiB held by the pool", len(n.bufs), float64(held)/(1<<30))
	if held > 16<<30 {
		t.Errorf("Net holds %.2f GiB at batch 128", float64(held)/(1<<30))
	}
	// The inference-only network (eval, predict, infer, bench --mode infer).
	di := NewDevice(&countingExec{})
	ni, err := NewNetWith(di, m, 128, NetOptions{Inference: true})
	if err != nil {
		t.Fatalf("%+v", err)
	}
	inf := di.Pool().Held()
	t.Logf("inference only, batch 128: %d buffers, %.2f GiB held by the pool", len(ni.bufs), float64(inf)/(1<<30))
	if inf > held*6/10 {
		t.Errorf("the inference-only Net holds %.2f GiB, the training Net %.2f GiB", float64(inf)/(1<<30), float64(held)/(1<<30))
	}
}

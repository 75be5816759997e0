package ops_test

import (
	"testing"

	"github.com/goinception/googlenet/ops"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// benchConvLayer times forward+backward of inception 3a's 3x3 branch
// (96 -> 128 channels, 28x28, batch 8, float32) on a TapeMachine, built
// by build.
func benchConvLayer(b *testing.B, build func(x, w *G.Node) (*G.Node, error)) {
	g := G.NewGraph()
	x := G.NewTensor(g, G.Float32, 4, G.WithShape(8, 96, 28, 28), G.WithName("x"), G.WithInit(G.Gaussian(0, 1)))
	w := G.NewTensor(g, G.Float32, 4, G.WithShape(128, 96, 3, 3), G.WithName("w"), G.WithInit(G.Gaussian(0, 0.05)))
	y, err := build(x, w)
	if err != nil {
		b.Fatal(err)
	}
	c, err := G.Sum(y)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := G.Grad(c, x, w); err != nil {
		b.Fatal(err)
	}
	m := G.NewTapeMachine(g)
	defer m.Close()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m.Reset()
		if err := m.RunAll(); err != nil {
			b.Fatal(err)
		}
	}
	// forward, data gradient and filter gradient: 3 GEMMs of 2·MACs flops.
	macs := 8.0 * 128 * 28 * 28 * 96 * 9
	b.ReportMetric(3*2*macs*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

func BenchmarkConvLayer(b *testing.B) {
	b.Run("ops.Conv2D", func(b *testing.B) {
		benchConvLayer(b, func(x, w *G.Node) (*G.Node, error) {
			return ops.Conv2D(x, w, nil, ops.ConvOpts{Pad: ops.Same(1)})
		})
	})
	b.Run("gorgonia.Conv2d", func(b *testing.B) {
		benchConvLayer(b, func(x, w *G.Node) (*G.Node, error) {
			return G.Conv2d(x, w, tensor.Shape{3, 3}, []int{1, 1}, []int{1, 1}, []int{1, 1})
		})
	})
}

package graph

import (
	"fmt"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
)

// TestConvOfInputSkipsInputGradient pins the performance rule of Conv: the
// first convolution (on an Input) builds no data-gradient node, the
// second (on an activation) does, and gradients of both weights still come
// out.
func TestConvOfInputSkipsInputGradient(t *testing.T) {
	b := New(Options{Training: true})
	x := b.Input("data", 2, 3, 8, 8)
	y := b.Conv("conv1", x, 4, ConvOpts{Kernel: 3, Pad: 1, ReLU: true})
	z := b.Conv("conv2", y, 5, ConvOpts{Kernel: 3, Pad: 1, ReLU: true})
	if err := b.Err(); err != nil {
		t.Fatal(err)
	}
	cost, err := G.Sum(z.Node)
	if err != nil {
		t.Fatal(err)
	}
	var wrt G.Nodes
	for _, p := range b.Params() {
		wrt = append(wrt, p.Node)
	}
	if _, err := G.Grad(cost, wrt...); err != nil {
		t.Fatal(err)
	}
	var dataGrads []string
	for _, n := range b.Graph().AllNodes() {
		if s := fmt.Sprint(n.Op()); strings.HasPrefix(s, "Conv2DGradData") {
			dataGrads = append(dataGrads, s)
		}
	}
	if len(dataGrads) != 1 || !strings.Contains(dataGrads[0], "C:4 ") {
		t.Errorf("data-gradient convolutions %q, want only conv2's (4 input channels)", dataGrads)
	}
}

package ops

import (
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func TestDescribe(t *testing.T) {
	g := G.NewGraph()
	x := G.NewTensor(g, tensor.Float32, 4, G.WithShape(1, 2, 6, 6), G.WithName("x"))
	w := G.NewTensor(g, tensor.Float32, 4, G.WithShape(3, 2, 3, 3), G.WithName("w"))
	b := G.NewTensor(g, tensor.Float32, 1, G.WithShape(3), G.WithName("b"))
	c, err := Conv2D(x, w, b, ConvOpts{StrideH: 2, StrideW: 2, Pad: Pad2D{Top: 1, Left: 1, Bottom: 0, Right: 2}, ReLU: true})
	if err != nil {
		t.Fatal(err)
	}
	info, ok := Describe(c.Op())
	if !ok || info.Kind != "conv" || !info.Bias || !info.Conv.ReLU || info.Conv.StrideH != 2 ||
		info.Conv.Pad != (Pad2D{Top: 1, Left: 1, Bottom: 0, Right: 2}) {
		t.Errorf("conv: %+v, %v", info, ok)
	}
	p, err := MaxPool2D(c, PoolOpts{KernelH: 3, KernelW: 3, StrideH: 2, StrideW: 2, CeilMode: true})
	if err != nil {
		t.Fatal(err)
	}
	info, ok = Describe(p.Op())
	if !ok || info.Kind != "maxpool" || !info.Pool.CeilMode || info.Pool.KernelH != 3 || info.OutH != p.Shape()[2] {
		t.Errorf("maxpool: %+v, %v", info, ok)
	}
	l, err := LRN(p, LRNOpts{Size: 5, Alpha: 1e-4, Beta: 0.75, K: 1})
	if err != nil {
		t.Fatal(err)
	}
	if info, ok = Describe(l.Op()); !ok || info.Kind != "lrn" || info.LRN.Size != 5 || info.LRN.Beta != 0.75 {
		t.Errorf("lrn: %+v, %v", info, ok)
	}
	st := &BNStats{Eps: 1e-3}
	gm := G.NewTensor(g, tensor.Float32, 1, G.WithShape(3), G.WithName("gamma"))
	bt := G.NewTensor(g, tensor.Float32, 1, G.WithShape(3), G.WithName("beta"))
	bn, err := BatchNorm(l, gm, bt, st, false)
	if err != nil {
		t.Fatal(err)
	}
	if info, ok = Describe(bn.Op()); !ok || info.Kind != "batchnorm" || info.BN != st || info.Training {
		t.Errorf("batchnorm: %+v, %v", info, ok)
	}
	gp, err := GlobalAvgPool2D(bn)
	if err != nil {
		t.Fatal(err)
	}
	if info, ok = Describe(gp.Op()); !ok || info.Kind != "globalavgpool" {
		t.Errorf("global pool: %+v, %v", info, ok)
	}
	f, err := Flatten(gp)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := Describe(f.Op()); ok {
		t.Error("Flatten (Gorgonia's reshape) described as an op of this package")
	}
	lw := G.NewTensor(g, tensor.Float32, 2, G.WithShape(4, 3), G.WithName("lw"))
	lin, err := Linear(f, lw, nil)
	if err != nil {
		t.Fatal(err)
	}
	if info, ok = Describe(lin.Op()); !ok || info.Kind != "linear" || info.Bias {
		t.Errorf("linear: %+v, %v", info, ok)
	}
	cat, err := ConcatChannels(c, c)
	if err != nil {
		t.Fatal(err)
	}
	if info, ok = Describe(cat.Op()); !ok || info.Kind != "concat" {
		t.Errorf("concat: %+v, %v", info, ok)
	}
	d, err := Dropout(cat, 0.4, &RandState{}, 0, true)
	if err != nil {
		t.Fatal(err)
	}
	if info, ok = Describe(d.Op()); !ok || info.Kind != "dropout" || info.Rate != 0.4 {
		t.Errorf("dropout: %+v, %v", info, ok)
	}
}

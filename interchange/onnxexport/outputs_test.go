package onnxexport

import (
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/goinception/googlenet/interchange/onnx"
	"github.com/goinception/googlenet/interchange/onnxnet"
)

// TestExportOutputs exports the mini network with pool5 and inception_3a as
// further outputs, runs the file operator by operator (package onnxnet)
// after a write and read, and compares every output with Forward and
// Features.
func TestExportOutputs(t *testing.T) {
	m := newModel(t, "mini", 0, 6)
	om, err := GoogLeNet(m, Options{Outputs: []string{"pool5", "inception_3a"}})
	if err != nil {
		t.Fatal(err)
	}
	path := t.TempDir() + "/m.onnx"
	if err := onnx.WriteFile(path, om); err != nil {
		t.Fatal(err)
	}
	back, err := onnx.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	net, err := onnxnet.NewNet(back)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(net.OutputNames(), ","); got != "logits,pool5,inception_3a" {
		t.Fatalf("outputs %s", got)
	}
	x := randInput(2, 1, 28, 3)
	ys, err := net.Forward(x)
	if err != nil {
		t.Fatal(err)
	}
	logits, err := m.Forward(x)
	if err != nil {
		t.Fatal(err)
	}
	fs, err := m.Features(x, "pool5", "inception_3a")
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range append([]*tensor.Dense{logits}, fs...) {
		if !ys[i].Shape().Eq(want.Shape()) {
			t.Fatalf("output %d: shape %v, want %v", i, ys[i].Shape(), want.Shape())
		}
		if e := relL2(ys[i].Data().([]float32), want.Data().([]float32)); e > parityTol {
			t.Errorf("output %d: relative L2 error %g", i, e)
		}
	}
	for _, bad := range [][]string{{"inception_9z"}, {"logits"}, {"loss3/classifier"}} {
		if _, err := GoogLeNet(m, Options{Outputs: bad}); err == nil {
			t.Errorf("outputs %q accepted", bad)
		}
	}
}

// TestExportEveryFeatureLayer exports the mini network with every layer
// Features takes (and scopes that name a row) as outputs of one file, and
// compares each with Features: the description's names resolve to the
// summary's rows.
func TestExportEveryFeatureLayer(t *testing.T) {
	m := newModel(t, "mini", 0, 0)
	perturbBN(m)
	var names []string
	for _, n := range m.FeatureLayers() {
		if n != "loss3/classifier" { // the logits
			names = append(names, n)
		}
	}
	names = append(names, "pool5", "conv1", "pool1")
	om, err := GoogLeNet(m, Options{Outputs: names})
	if err != nil {
		t.Fatal(err)
	}
	net, err := onnxnet.NewNet(om)
	if err != nil {
		t.Fatal(err)
	}
	x := randInput(2, 1, 28, 5)
	ys, err := net.Forward(x)
	if err != nil {
		t.Fatal(err)
	}
	fs, err := m.Features(x, names...)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range fs {
		got := ys[i+1]
		if !got.Shape().Eq(want.Shape()) {
			t.Errorf("%s: shape %v, Features %v", names[i], got.Shape(), want.Shape())
			continue
		}
		if e := relL2(got.Data().([]float32), want.Data().([]float32)); e > parityTol {
			t.Errorf("%s: relative L2 error %g", names[i], e)
		}
	}
}

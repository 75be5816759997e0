package convert

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"gorgonia.org/tensor"

	"github.com/goinception/googlenet/cpu"
	"github.com/goinception/googlenet/inception"
	"github.com/goinception/googlenet/interchange/onnx"
	"github.com/goinception/googlenet/interchange/onnxexport"
	"github.com/goinception/googlenet/interchange/onnxnet"
	"github.com/goinception/googlenet/internal/peer"
)

// Parity fixtures: batch and input size of the PyTorch reference runs.
const (
	parityBatch = 2
	paritySize  = 224
)

func readBin(t *testing.T, path string, n int) []float32 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != 4*n {
		t.Fatalf("%s: %d bytes, want %d", path, len(b), 4*n)
	}
	v := make([]float32, n)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v
}

func argmax(v []float32) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}

// checkParity compares got with PyTorch's want ([parityBatch, classes]):
// relative L2 error within parityTol and the same top-1 class per image.
func checkParity(t *testing.T, what string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, PyTorch %d", what, len(got), len(want))
	}
	e := relL2(got, want)
	if e > parityTol {
		t.Errorf("%s: relative L2 error %.3g vs PyTorch > %g", what, e, parityTol)
	}
	k := len(want) / parityBatch
	for i := 0; i < parityBatch; i++ {
		if g, w := argmax(got[i*k:(i+1)*k]), argmax(want[i*k:(i+1)*k]); g != w {
			t.Errorf("%s: image %d: top-1 class %d, PyTorch %d", what, i, g, w)
		}
	}
	t.Logf("%s: relative L2 error vs PyTorch %.3g, top-1 agrees on %d images", what, e, parityBatch)
}

// TestPyTorchParity is the acceptance check against PyTorch: torchvision
// GoogLeNet state dicts (.pth, .safetensors, with and without the auxiliary
// heads), a paper-faithful GoogLeNet exported by torch.onnx, and the same
// network in the ONNX model zoo's style. The fixtures are made at test time by
// testdata/make_models.py.
// checkOnCPU runs m on the fast CPU engine, with its Winograd 3x3
// convolutions and without, and checks both against PyTorch's outputs.
func checkOnCPU(t *testing.T, m *inception.Model, in *tensor.Dense, want []float32) {
	t.Helper()
	for _, o := range []cpu.Options{{}, {NoWinograd: true}} {
		mc, err := m.OnEngine(cpu.New(o))
		if err != nil {
			t.Fatal(err)
		}
		y, err := mc.Forward(in)
		if err != nil {
			t.Fatal(err)
		}
		checkParity(t, fmt.Sprintf("%s on %s (NoWinograd %v)", m.Config().Variant, mc.Config().Engine.Name(), o.NoWinograd), y.Data().([]float32), want)
	}
}

func TestPyTorchParity(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping PyTorch parity test in -short mode")
	}
	debianPython := peer.Python(t, "torch", "torchvision", "onnx")
	dir := t.TempDir()
	start := time.Now()
	cmd := exec.Command(debianPython, filepath.Join("testdata", "make_models.py"), dir, "2", "224")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make_models.py: %v\n%s", err, out)
	}
	t.Logf("PyTorch fixtures made in %v", time.Since(start).Round(time.Millisecond))
	x := func(sub string) *tensor.Dense {
		v := readBin(t, filepath.Join(dir, sub, "x.bin"), parityBatch*3*paritySize*paritySize)
		return tensor.New(tensor.WithShape(parityBatch, 3, paritySize, paritySize), tensor.WithBacking(v))
	}
	n := parityBatch * 1000

	t.Run("torchvision", func(t *testing.T) {
		in := x("torchvision")
		want := readBin(t, filepath.Join(dir, "torchvision", "logits.bin"), n)
		for _, tc := range []struct {
			file string
			aux  bool
			run  bool
		}{{"tv.pth", true, true}, {"tv_noaux.safetensors", false, true}, {"tv.safetensors", true, false}, {"tv_noaux.pth", false, false}} {
			ld, err := Load(filepath.Join(dir, "torchvision", tc.file), LoadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if _, got := ld.Model.Param("loss1/classifier/w"); got != tc.aux {
				t.Errorf("%s: auxiliary head parameters %v, want %v", tc.file, got, tc.aux)
			}
			if !tc.run {
				continue
			}
			y, err := ld.Model.Forward(in)
			if err != nil {
				t.Fatal(err)
			}
			checkParity(t, tc.file, y.Data().([]float32), want)
			if tc.file != "tv.pth" {
				continue
			}
			checkOnCPU(t, ld.Model, in, want)
			// Our export of the imported model passes ONNX's own checker.
			om, err := onnxexport.GoogLeNet(ld.Model, onnxexport.Options{Means: ld.Means, Stds: ld.Stds})
			if err != nil {
				t.Fatal(err)
			}
			p := filepath.Join(dir, "exported.onnx")
			if err := onnx.WriteFile(p, om); err != nil {
				t.Fatal(err)
			}
			check := "import onnx, sys; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True)"
			if out, err := exec.Command(debianPython, "-c", check, p).CombinedOutput(); err != nil {
				t.Errorf("onnx.checker rejects our export: %v\n%s", err, out)
			}
		}
		// torch.onnx's export, batch norms folded into the convolutions.
		ld, err := Load(filepath.Join(dir, "torchvision", "tv.onnx"), LoadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if v := ld.Model.Config().Variant; v != "torchvision" {
			t.Errorf("tv.onnx imported as %q", v)
		}
		y, err := ld.Model.Forward(in)
		if err != nil {
			t.Fatal(err)
		}
		checkParity(t, "tv.onnx (batch norm folded) as inception torchvision model", y.Data().([]float32), want)
	})
	t.Run("paper-onnx", func(t *testing.T) {
		in := x("paper")
		logits := readBin(t, filepath.Join(dir, "paper", "logits.bin"), n)
		prob := readBin(t, filepath.Join(dir, "paper", "prob.bin"), n)
		for _, tc := range []struct {
			file    string
			softmax bool
		}{{"paper.onnx", false}, {"zoo.onnx", true}} {
			path := filepath.Join(dir, "paper", tc.file)
			m, err := onnx.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			// Operator by operator.
			net, err := onnxnet.NewNet(m)
			if err != nil {
				t.Fatal(err)
			}
			ys, err := net.Forward(in)
			if err != nil {
				t.Fatal(err)
			}
			want := logits
			if tc.softmax {
				want = prob
			}
			checkParity(t, tc.file+" as onnxnet.Net", ys[0].Data().([]float32), want)
			// Mapped onto our paper variant.
			ld, err := Load(path, LoadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if ld.Softmax != tc.softmax || ld.Model.Config().Variant != "paper" {
				t.Errorf("%s: softmax %v variant %q", tc.file, ld.Softmax, ld.Model.Config().Variant)
			}
			y, err := ld.Model.Forward(in)
			if err != nil {
				t.Fatal(err)
			}
			checkParity(t, tc.file+" as inception paper model", y.Data().([]float32), logits)
			if tc.file == "paper.onnx" {
				checkOnCPU(t, ld.Model, in, logits)
			}
		}
	})
}

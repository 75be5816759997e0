package caffe_test

import (
	"encoding/binary"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"gorgonia.org/tensor"

	"github.com/goinception/googlenet/interchange/caffe"
	"github.com/goinception/googlenet/internal/peer"
)

// parityTol bounds the relative L2 error of our logits against PyTorch's.
const parityTol = 1e-4

var (
	fixtureOnce sync.Once
	fixtureDir  string
	fixtureErr  error
)

// fixtures writes the .caffemodel files once per test binary
// (testdata/write_caffemodel.py) and returns their folder.
func fixtures(t *testing.T) string {
	t.Helper()
	py := peer.Python(t, "torch", "google.protobuf")
	if _, err := exec.LookPath("protoc"); err != nil {
		peer.Missing(t, "protoc is not on PATH (apt-get install protobuf-compiler)")
	}
	fixtureOnce.Do(func() {
		fixtureDir, fixtureErr = os.MkdirTemp("", "caffe-fixtures")
		if fixtureErr != nil {
			return
		}
		out, err := exec.Command(py, filepath.Join("testdata", "write_caffemodel.py"), fixtureDir).CombinedOutput()
		if err != nil {
			fixtureErr = err
			t.Logf("%s", out)
		}
	})
	if fixtureErr != nil {
		t.Fatalf("write_caffemodel.py: %v", fixtureErr)
	}
	return fixtureDir
}

func TestMain(m *testing.M) {
	code := m.Run()
	if fixtureDir != "" {
		os.RemoveAll(fixtureDir)
	}
	os.Exit(code)
}

func readF32(t *testing.T, path string) []float32 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v
}

// TestParity imports a paper-faithful PyTorch GoogLeNet written as a
// .caffemodel, in the current and the legacy V1 form, and compares the
// logits on two random inputs.
func TestParity(t *testing.T) {
	if testing.Short() {
		t.Skip("whole GoogLeNet at 224: skipped with -short")
	}
	dir := fixtures(t)
	x := readF32(t, filepath.Join(dir, "x.bin"))
	want := readF32(t, filepath.Join(dir, "logits.bin"))
	for _, name := range []string{"googlenet.caffemodel", "googlenet_v1.caffemodel"} {
		n, err := caffe.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if n.Legacy != (name == "googlenet_v1.caffemodel") {
			t.Errorf("%s: Legacy = %v", name, n.Legacy)
		}
		m, err := caffe.ImportGoogLeNet(n, caffe.Options{})
		if err != nil {
			t.Fatal(err)
		}
		y, err := m.Forward(tensor.New(tensor.WithShape(2, 3, 224, 224), tensor.WithBacking(append([]float32(nil), x...))))
		if err != nil {
			t.Fatal(err)
		}
		got := y.Data().([]float32)
		var num, den float64
		for i := range want {
			d := float64(got[i] - want[i])
			num += d * d
			den += float64(want[i]) * float64(want[i])
		}
		rel := math.Sqrt(num / den)
		t.Logf("%s: %s; logits relative L2 error %.2e", name, n, rel)
		if rel > parityTol {
			t.Errorf("%s: relative L2 error %.3g (tolerance %g)", name, rel, parityTol)
		}
	}
}

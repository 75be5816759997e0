package torchpth

import (
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/goinception/googlenet/internal/peer"
)

// sumTol is the relative tolerance on per-tensor sums (float32 values summed
// in float64 here, in float64 by PyTorch).
const sumTol = 1e-6

// requireTorch returns the peer interpreter with torch and torchvision
// (see internal/peer), or skips the test in -short mode.
func requireTorch(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("skipping PyTorch parity test in -short mode")
	}
	return peer.Python(t, "torch", "torchvision")
}

func TestTorchvisionGoogLeNetParity(t *testing.T) {
	debianPython := requireTorch(t)
	dir := t.TempDir()
	out, err := exec.Command(debianPython, filepath.Join("testdata", "googlenet_fixture.py"), dir).CombinedOutput()
	if err != nil {
		t.Fatalf("googlenet_fixture.py: %v\n%s", err, out)
	}
	b, err := os.ReadFile(filepath.Join(dir, "sums.json"))
	if err != nil {
		t.Fatal(err)
	}
	var want map[string][3]json.RawMessage
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	sd, err := ReadFile(filepath.Join(dir, "googlenet.pth"))
	if err != nil {
		t.Fatal(err)
	}
	if len(sd.Names) != len(want) {
		t.Fatalf("%d tensors, PyTorch saved %d", len(sd.Names), len(want))
	}
	for name, w := range want {
		var shape []int
		var sum, first float64
		json.Unmarshal(w[0], &shape)
		json.Unmarshal(w[1], &sum)
		json.Unmarshal(w[2], &first)
		got, ok := sd.Tensors[name]
		if !ok {
			t.Errorf("missing %q", name)
			continue
		}
		if len(shape)+len(got.Shape) > 0 && !reflect.DeepEqual(got.Shape, shape) {
			t.Errorf("%s: shape %v, want %v", name, got.Shape, shape)
			continue
		}
		var s float64
		for _, v := range got.Data {
			s += float64(v)
		}
		if math.Abs(s-sum) > sumTol*math.Max(1, math.Abs(sum)) {
			t.Errorf("%s: sum %v, want %v", name, s, sum)
		}
		if math.Abs(float64(got.Data[0])-first) > sumTol*math.Max(1, math.Abs(first)) {
			t.Errorf("%s: first value %v, want %v", name, got.Data[0], first)
		}
	}
	if err := sd.CheckFinite(); err != nil {
		t.Error(err)
	}
}

package peer

import (
	_ "embed"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

//go:embed ort_run.mjs
var ortRun []byte

// RunORT runs the ONNX file model with ONNX Runtime (onnxruntime-node, see
// Node) on the float32 input x of the given shape and returns the values of
// the graph's first output, or skips or fails t (see Missing) where Node.js
// or onnxruntime-node is missing.
func RunORT(t TB, model string, x []float32, shape []int) []float32 {
	t.Helper()
	node, ortDir := Node(t)
	if node == "" {
		return nil
	}
	dir, err := os.MkdirTemp("", "ort-run")
	if err != nil {
		t.Fatalf("peer: %v", err)
	}
	defer os.RemoveAll(dir)
	script := filepath.Join(dir, "ort_run.mjs")
	in, out := filepath.Join(dir, "x.bin"), filepath.Join(dir, "y.bin")
	b := make([]byte, 4*len(x))
	for i, v := range x {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	dims := make([]string, len(shape))
	for i, d := range shape {
		dims[i] = fmt.Sprint(d)
	}
	if err := os.WriteFile(script, ortRun, 0o644); err != nil {
		t.Fatalf("peer: %v", err)
	}
	if err := os.WriteFile(in, b, 0o644); err != nil {
		t.Fatalf("peer: %v", err)
	}
	cmd := exec.Command(node, script, model, in, strings.Join(dims, ","), out)
	cmd.Env = append(os.Environ(), "NODE_PATH="+filepath.Join(ortDir, "node_modules"))
	if o, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ONNX Runtime on %s: %v\n%s", model, err, o)
	}
	yb, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("peer: %v", err)
	}
	y := make([]float32, len(yb)/4)
	for i := range y {
		y[i] = math.Float32frombits(binary.LittleEndian.Uint32(yb[4*i:]))
	}
	return y
}

package bench

import (
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/goinception/googlenet/interchange/onnx"
	"github.com/goinception/googlenet/internal/peer"
)

func TestIsORTPeer(t *testing.T) {
	for s, want := range map[string]bool{
		"../shared/peers/ort_googlenet_bench.mjs": true, "x.JS": true,
		"torch_googlenet_bench.py": false, "bench": false,
	} {
		if got := IsORTPeer(s); got != want {
			t.Errorf("IsORTPeer(%q) = %v, want %v", s, got, want)
		}
	}
}

// TestExportONNXForPeer checks that the peer's file is our network: an
// ONNX graph with input "data" and output "logits" carrying our parameters.
func TestExportONNXForPeer(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mini.onnx")
	if err := ExportONNX(Config{Variant: "mini", Seed: 3}, path); err != nil {
		t.Fatalf("%+v", err)
	}
	m, err := onnx.ReadFile(path)
	if err != nil {
		t.Fatalf("%+v", err)
	}
	if len(m.Graph.Inputs) == 0 || m.Graph.Inputs[0].Name != "data" || len(m.Graph.Outputs) != 1 || m.Graph.Outputs[0].Name != "logits" {
		t.Fatalf("graph inputs %v outputs %v, want data -> logits", m.Graph.Inputs, m.Graph.Outputs)
	}
	if len(m.Graph.Initializers) < 10 {
		t.Fatalf("%d initializers: the weights are missing", len(m.Graph.Initializers))
	}
}

func TestORTPeerRefusesTraining(t *testing.T) {
	_, err := RunPeer(PeerConfig{Script: writeFile(t, "peer.mjs"), Model: "x.onnx"}, Config{Variant: "mini", Mode: ModeTrain, Batch: 2})
	if err == nil || !strings.Contains(err.Error(), "inference only") {
		t.Fatalf("training with the ONNX Runtime peer: err %v", err)
	}
	_, err = RunPeer(PeerConfig{Script: writeFile(t, "peer.mjs")}, Config{Variant: "mini"})
	if err == nil || !strings.Contains(err.Error(), "ONNX file") {
		t.Fatalf("no model: err %v", err)
	}
}

// TestORTPeer runs shared/peers/ort_googlenet_bench.mjs (GOOGLENET_ORT_PEER,
// or beside the repository as scripts/bench-vs-torch.sh expects it) on our
// export.
func TestORTPeer(t *testing.T) {
	if testing.Short() {
		t.Skip("runs ONNX Runtime")
	}
	peer.Node(t)
	script := os.Getenv("GOOGLENET_ORT_PEER")
	if script == "" {
		// shared/peers beside the repository (or beside the folder of
		// its worktrees).
		for _, up := range []string{"../..", "../../.."} {
			if p, err := filepath.Abs(filepath.Join(up, "shared", "peers", "ort_googlenet_bench.mjs")); err == nil {
				if _, err := os.Stat(p); err == nil {
					script = p
					break
				}
			}
		}
	}
	if script == "" {
		// The benchmark script is not part of the repository (Node.js and
		// onnxruntime-node, the peer itself, were required above).
		t.Skip("skipping: shared/peers/ort_googlenet_bench.mjs is not beside the repository (set GOOGLENET_ORT_PEER to its path)")
	}
	// The script feeds three-channel images: the paper network (mini reads
	// one channel).
	c := Config{Variant: "paper", Batch: 2, Iters: 1, Warmup: -1, Seed: 5}
	model := filepath.Join(t.TempDir(), "paper.onnx")
	if err := ExportONNX(c, model); err != nil {
		t.Fatalf("%+v", err)
	}
	r, err := RunPeer(PeerConfig{Script: script, Model: model, Threads: 1}, c)
	if err != nil {
		t.Fatalf("%+v", err)
	}
	if r.Batch != 2 || r.Mode != ModeInfer || !(r.ImgPerS > 0) || r.PeakRSSBytes <= 0 || !strings.Contains(r.Peer, "onnxruntime") {
		t.Fatalf("peer result %+v", r)
	}
}

func writeFile(t *testing.T, name string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte("// not run\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestResetPeakRSS(t *testing.T) {
	big := make([]byte, 64<<20)
	for i := range big {
		big[i] = 1
	}
	before := PeakRSS()
	runtime.KeepAlive(big)
	big = nil
	runtime.GC()
	debug.FreeOSMemory()
	if err := ResetPeakRSS(); err != nil {
		t.Skipf("the kernel does not allow it here: %v", err)
	}
	if after := PeakRSS(); after > before-32<<20 {
		t.Fatalf("peak RSS %d MiB after freeing 64 MiB and the reset, %d MiB before", after>>20, before>>20)
	}
}

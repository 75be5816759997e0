package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/pkg/errors"

	"github.com/goinception/googlenet/inception"
	"github.com/goinception/googlenet/interchange/onnx"
	"github.com/goinception/googlenet/interchange/onnxexport"
	"github.com/goinception/googlenet/internal/peer"
)

// IsORTPeer reports whether script is the ONNX Runtime peer
// (shared/peers/ort_googlenet_bench.mjs, a Node.js module) rather than the
// PyTorch one (a Python script): RunPeer tells them apart by extension.
func IsORTPeer(script string) bool {
	ext := strings.ToLower(filepath.Ext(script))
	return ext == ".mjs" || ext == ".js"
}

// ExportONNX builds the model that Run would build for c (variant, input
// size and seed, hence the same weights) and writes its inference graph to
// path as ONNX (interchange/onnxexport.GoogLeNet; the batch dimension is
// symbolic), for the ONNX Runtime peer. The file is written atomically.
func ExportONNX(c Config, path string) error {
	c, err := c.resolved()
	if err != nil {
		return err
	}
	mc, err := inception.ConfigFor(c.Variant)
	if err != nil {
		return errors.Wrap(err, "bench")
	}
	mc.BatchSize = 1
	mc.Seed = c.Seed
	if c.InputSize > 0 {
		mc.InputSize = c.InputSize
	}
	m, err := inception.New(mc)
	if err != nil {
		return errors.Wrap(err, "bench: export: model")
	}
	om, err := onnxexport.GoogLeNet(m, onnxexport.Options{})
	if err != nil {
		return errors.Wrap(err, "bench: export")
	}
	return errors.Wrap(onnx.WriteFile(path, om), "bench: export")
}

// runORTPeer runs the ONNX Runtime peer script on p.Model with the workload
// of c. Node.js is GOOGLENET_NODE or node on PATH; onnxruntime-node is
// looked up in peer.ORTDir()'s node_modules (NODE_PATH), where the install
// hint of internal/peer puts it.
func runORTPeer(p PeerConfig, c Config, size int, timeout time.Duration) (PeerResult, error) {
	if c.Mode != ModeInfer {
		return PeerResult{}, errors.New("bench: the ONNX Runtime peer runs inference only; use --mode infer (or the PyTorch peer for training)")
	}
	if c.InputSize == 0 {
		mc, err := inception.ConfigFor(c.Variant)
		if err != nil {
			return PeerResult{}, errors.Wrap(err, "bench")
		}
		size = mc.InputSize
	}
	if p.Model == "" {
		return PeerResult{}, errors.New("bench: the ONNX Runtime peer needs an ONNX file (PeerConfig.Model; see ExportONNX)")
	}
	node := p.Node
	if node == "" {
		node = os.Getenv("GOOGLENET_NODE")
	}
	if node == "" {
		node = "node"
	}
	ortDir := peer.ORTDir()
	if _, err := os.Stat(filepath.Join(ortDir, "node_modules", "onnxruntime-node", "package.json")); err != nil {
		return PeerResult{}, errors.Errorf("bench: onnxruntime-node is not installed in %s (npm install --prefix %s --ignore-scripts onnxruntime-node@1.30.0, or set GOOGLENET_ORT_DIR)", ortDir, ortDir)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	args := []string{p.Script, "--model", p.Model, "--batch", strconv.Itoa(c.Batch), "--size", strconv.Itoa(size),
		"--iters", strconv.Itoa(max(c.Iters, 1)), "--warmup", strconv.Itoa(c.Warmup), "--threads", strconv.Itoa(p.Threads)}
	cmd := exec.CommandContext(ctx, node, args...)
	env := p.Env
	if env == nil {
		env = os.Environ()
	}
	cmd.Env = append(envWithout(env, "NODE_PATH"), "NODE_PATH="+filepath.Join(ortDir, "node_modules"))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return PeerResult{}, errors.Wrapf(err, "bench: %s %s: %s", node, strings.Join(args, " "), lastLines(stderr.String(), 5))
	}
	return parsePeerLine(stdout.String())
}

func parsePeerLine(out string) (PeerResult, error) {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var r PeerResult
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &r); err != nil {
		return PeerResult{}, errors.Wrapf(err, "bench: peer output %q", lastLines(out, 3))
	}
	if r.ImgPerS <= 0 {
		return PeerResult{}, errors.Errorf("bench: peer output %q has no img_per_s", lastLines(out, 3))
	}
	return r, nil
}

// ResetPeakRSS sets this process's peak resident set (VmHWM) back to its
// current resident set, by writing 5 to /proc/self/clear_refs (Linux 4.0
// and later), so that a later PeakRSS measures from here: for example
// after exporting the peer's ONNX file and returning the memory with
// debug.FreeOSMemory. It returns an error where the kernel does not allow
// it; PeakRSS then still counts everything since the process started.
func ResetPeakRSS() error {
	return errors.Wrap(os.WriteFile("/proc/self/clear_refs", []byte("5"), 0), "bench: reset peak RSS")
}

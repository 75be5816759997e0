package bench

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/pkg/errors"
)

// DefaultPython is Debian's interpreter, the one with python3-torch (a
// python3 earlier on PATH may be another installation without it).
const DefaultPython = "/usr/bin/python3"

// PeerResult is the JSON line printed by the peer benchmarks
// (shared/peers/torch_googlenet_bench.py and ort_googlenet_bench.mjs).
type PeerResult struct {
	Peer         string  `json:"peer"`
	Mode         string  `json:"mode"`
	Batch        int     `json:"batch"`
	Threads      int     `json:"threads"`
	ImgPerS      float64 `json:"img_per_s"`
	MsPerBatch   float64 `json:"ms_per_batch"`
	PeakRSSBytes int64   `json:"peak_rss_bytes"`
}

// PeerConfig runs the peer script with the same workload as a Config.
type PeerConfig struct {
	Python  string // interpreter of the PyTorch peer; "" means DefaultPython
	Script  string // torch_googlenet_bench.py, or ort_googlenet_bench.mjs (see IsORTPeer)
	Threads int    // the peer's threads; 0 means one per core (the scripts' default)
	// Model is the ONNX file the ONNX Runtime peer runs (see ExportONNX);
	// Node is its Node.js binary ("" means GOOGLENET_NODE, else node on
	// PATH). The PyTorch peer uses neither.
	Model, Node string
	// Env, when non-nil, replaces the child's environment (for example the
	// current one without OPENBLAS_CORETYPE); nil inherits it.
	Env     []string
	Timeout time.Duration // 0 means 10 minutes
}

// RunPeer runs the PyTorch peer, or the ONNX Runtime peer when p.Script
// is a .mjs (IsORTPeer; inference only, on p.Model), on the workload of c (mode, batch, input
// size, iterations, warm-up) in a child process and parses its result.
// Call it before Run, while this process is small: on Linux a child made
// by fork/exec starts with its parent's peak RSS as its own ru_maxrss (the
// counter the peer reports), so after Run it would report our peak when
// ours is the larger.
func RunPeer(p PeerConfig, c Config) (PeerResult, error) {
	c, err := c.resolved()
	if err != nil {
		return PeerResult{}, err
	}
	if p.Script == "" {
		return PeerResult{}, errors.New("bench: no peer script given")
	}
	if _, err := os.Stat(p.Script); err != nil {
		return PeerResult{}, errors.Wrap(err, "bench: peer script")
	}
	py := p.Python
	if py == "" {
		py = DefaultPython
	}
	size := c.InputSize
	if size == 0 {
		size = 224
	}
	timeout := p.Timeout
	if timeout == 0 {
		timeout = 10 * time.Minute
	}
	if IsORTPeer(p.Script) {
		return runORTPeer(p, c, size, timeout)
	}
	if c.Variant == "mini" {
		return PeerResult{}, errors.New("bench: the PyTorch peer runs torchvision's GoogLeNet; compare the paper or torchvision variant")
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	args := []string{p.Script, "--mode", c.Mode, "--batch", strconv.Itoa(c.Batch), "--size", strconv.Itoa(size),
		"--iters", strconv.Itoa(max(c.Iters, 1)), "--warmup", strconv.Itoa(c.Warmup), "--threads", strconv.Itoa(p.Threads)}
	cmd := exec.CommandContext(ctx, py, args...)
	cmd.Env = p.Env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return PeerResult{}, errors.Wrapf(err, "bench: %s %s: %s", py, strings.Join(args, " "), lastLines(stderr.String(), 5))
	}
	return parsePeerLine(stdout.String())
}

// EnvWithout returns the current environment without the named variables.
func EnvWithout(names ...string) []string { return envWithout(os.Environ(), names...) }

// envWithout returns env without the named variables.
func envWithout(env []string, names ...string) []string {
	var out []string
	for _, kv := range env {
		drop := false
		for _, n := range names {
			if strings.HasPrefix(kv, n+"=") {
				drop = true
			}
		}
		if !drop {
			out = append(out, kv)
		}
	}
	return out
}

func lastLines(s string, n int) string {
	ls := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(ls) > n {
		ls = ls[len(ls)-n:]
	}
	return strings.Join(ls, "\n")
}

// Package bench measures GoogLeNet on the CPU: inference (Model.Forward) or
// full training steps (Model.Step with both auxiliary heads, backward, and
// an SGD momentum update from package solvers), reporting the median
// images per second and milliseconds per batch after warm-up, the peak
// resident set size, and the arithmetic rate implied by the model's
// multiply-adds. The `googlenet bench` command is a thin front end to Run.
//
// # Method
//
// Run builds the model (inception.New with the variant's preset, the batch
// and input size asked for) on the engine asked for (package cpu by
// default, also behind gorgonia.Use; or the pure-Go reference), and alternates
// two different random inputs over Warmup untimed and Iters timed
// iterations. The reported time is the median of the timed iterations.
//
// FLOPs per image are 2·MACs of the main path for inference, and
// 3·2·MACs of the main path plus the auxiliary heads for a training step
// (forward, gradient with respect to the data, gradient with respect to
// the weights), with MACs from inception.Summary. Elementwise work (pools,
// LRN, ReLU, the solver) is not counted.
//
// # Checks against cached or skipped work
//
// Before timing, Run evaluates the inputs x₀, x₁, x₀ and requires finite
// outputs, the same output for the repeated input (within a tolerance) and
// a different one for x₁: a network that ignored its input or served a
// cached result would fail. Training checks use losses with the dropout
// masks held fixed, and require every gradient to be finite. During timing
// every output (logits or loss) is checked to be finite.
//
// # Memory
//
// PeakRSS is the kernel's high-water mark of the resident set (VmHWM, or
// getrusage's ru_maxrss). Result also reports the resident set after the
// warm-up and after the last iteration, and the bytes allocated on the Go
// heap per iteration: ops reuse their buffers, so memory stays flat.
//
// # The peers
//
// RunPeer runs shared/peers/torch_googlenet_bench.py (torchvision's
// GoogLeNet; Debian's /usr/bin/python3 with python3-torch) on the same
// workload in a child process and parses its JSON line, for a comparison
// in one run on one machine. Given shared/peers/ort_googlenet_bench.mjs
// instead (IsORTPeer), it runs ONNX Runtime's CPU provider under Node.js
// (onnxruntime-node in internal/peer's ORTDir) on PeerConfig.Model, which
// ExportONNX writes: our own network, variant and weights, through
// interchange/onnxexport, so both sides compute the same function.
// ResetPeakRSS lets a caller drop the export's memory from its own peak.
package bench

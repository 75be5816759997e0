// Package ops provides the differentiable Gorgonia operations that GoogLeNet
// needs and that Gorgonia v0.9.18 lacks or gets wrong, for float32 and
// float64 tensors in NCHW layout.
//
// Every constructor (Conv2D, MaxPool2D, ...) validates shapes and options
// and returns an error, never panics, on bad input. Every op implements
// gorgonia.Op and gorgonia.SDOp; its backward pass is built from further
// ops, so gorgonia.Grad works on the TapeMachine.
//
// # Layout
//
// Images are NCHW: element (n, c, h, w) of a [N,C,H,W] tensor is at offset
// ((n·C + c)·H + h)·W + w. Convolution filters are OIHW [K,C,R,S]; linear
// weights are [Out,In] (PyTorch's layout), so Linear computes x·Wᵀ + b.
//
// # Operations
//
// Conv2D: y[n,k,i,j] = b[k] + Σ_{c,r,s} x[n,c,i·sh-pt+r, j·sw-pl+s]·w[k,c,r,s],
// reading zero outside the input, optionally followed by ReLU. Padding may
// be asymmetric (Pad2D); the output size is (H+pt+pb-R)/sh + 1.
//
// MaxPool2D and AvgPool2D: windows start at the top-left corner of the
// padded input. Without CeilMode the output size is
// floor((H+pt+pb-k)/s)+1; with it ceil(...)+1, minus one if the last window
// would start in the bottom/right padding. Max pooling ignores padding;
// its gradient goes to the first maximum of each window in row-major order.
// Average pooling divides by the number of input elements in the window,
// or with CountIncludePad by the window clipped to the padded input: the
// padding counts, a ceil-mode overhang beyond it does not (PyTorch).
//
// AdaptiveAvgPool2D: output (i, j) averages rows [⌊i·H/OH⌋, ⌈(i+1)·H/OH⌉)
// and the same for columns (PyTorch). GlobalAvgPool2D is the 1x1 case.
//
// LRN (across channels, Caffe and ONNX):
//
//	s_c = K + Alpha/Size · Σ_{c' = c-(Size-1)/2}^{c+(Size-1)/2} x_{c'}²,  y_c = x_c · s_c^-Beta
//
// with the analytic gradient
// dx_c = dy_c·s_c^-β − (2αβ/Size)·x_c·Σ_{j in the window of c} dy_j·y_j/s_j.
//
// Dropout: y = x·m/(1−rate) with mask m ∈ {0,1} drawn per element as a pure
// function of (RandState.Seed, RandState.Step, index, element) (see
// DropoutKeep); the gradient is dy·m/(1−rate) with the same mask. In eval
// mode Dropout returns x itself.
//
// BatchNorm: y = γ·(x−μ)/√(σ²+ε) + β per channel. Training uses the batch
// mean and biased variance over (N, H, W) and updates BNStats in place,
// running = (1−momentum)·running + momentum·batch, with the unbiased
// variance (PyTorch). Eval uses the running statistics. BNStats live
// outside any machine, so a new machine never resets them.
//
// SoftmaxCrossEntropy: mean over the batch of logsumexp(z) − z[label],
// computed with the maximum subtracted (no overflow, no log of 0). Labels
// are a [N] node of the logits' dtype holding class indices; a label that
// is not an integer in [0, K) is an error when the machine runs.
// The gradient is (softmax(z) − onehot(label))·dloss/N.
//
// Linear, Softmax, ReLU, Flatten and ConcatChannels do what their names say;
// ConcatChannels's gradient slices the output gradient back per input.
//
// # Engines
//
// Every float32 kernel of a training step runs on an Engine: convolutions,
// matrix products, pooling, LRN, batch norm, softmax cross-entropy,
// dropout, channel concatenation, and the SGD update of package solvers
// (SGDConfig.Engine). The engine is a value bound to each op when it is
// built: With(e) returns the
// constructors of ops on e, and the backward ops Gorgonia derives inherit
// it (graph.Options.Engine and inception.Config.Engine pass it down). The
// package-level constructors
// are With(nil)'s: Reference (pure Go, im2col + gonum's GEMM, no cgo). Other
// engines are OpenBLAS on the CPU (package cpu) and CUDA on a GPU (package
// cuda); graphs on different engines run side by side in one process.
// Engine methods return errors (a device failure), which the machine
// running the op returns. An engine may leave a kernel out by returning
// ErrNotSupported: the op then runs the reference kernel on the CPU (the
// cuda engine does this for batch norm, softmax cross-entropy and the SGD
// update). float64 always uses
// the generic reference kernels; it is the type for gradient checks.
// Package opstest is the conformance suite every engine runs.
//
// On amd64 CPUs with AVX the float32 elementwise kernels (ReLU and its
// masks, LRN's window sums, products, quotient and power, max pooling's
// maxima, the 3x3/1 pool gradient, and with AVX2 the 3x3/2 pools' stride-2
// windows and their gradient over even/odd column phases) run eight lanes
// at a time in assembly (simd_amd64.s); they give the same bits as their
// Go loops, which run elsewhere, except that a maximum of NaNs may carry
// another NaN payload and a maximum of ±0 may be -0.
//
// Large element-wise ops, pooling, LRN, concatenation and its gradient
// split their work over GOMAXPROCS goroutines in chunks taken as the
// workers finish. Gorgonia's own sums of fan-out gradients run on one
// goroutine unless the tape machine uses TensorEngine (package inception's
// models do).
//
// # Buffers
//
// Gorgonia's TapeMachine drops every value on Reset, so an op that
// allocated its result in Do would allocate the whole network's
// activations on every step. The ops here own their output buffers and
// overwrite them on each run: memory stays flat in a training loop. A
// consequence: a node's Value is only valid until the machine runs again
// (copy it to keep it), and one graph must not be run by two machines at
// the same time.
//
// A forward-only graph need not hold all of its activations at once:
// PlanBuffers assigns the outputs of its ops to shared slots by liveness
// (an output whose last reader has run lends its memory to a later one),
// in the order the TapeMachine runs them. Only the roots and the nodes
// named to keep stay valid after a run. For the paper GoogLeNet at batch 8
// the inference activations take 64 MB in five slots instead of 204 MB.
//
// # Hashing
//
// Gorgonia merges nodes whose op hash and inputs are equal. Each op's hash
// covers every parameter that changes its output; Dropout and BatchNorm
// also carry a unique identity, so two of them are never merged.
package ops

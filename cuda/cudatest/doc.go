// Package cudatest is the conformance suite for cuda.Device: every kernel
// against float64 reference loops. It runs on the CPU emulation in plain
// `go test ./cuda/...` and on a real GPU in `go test -tags gpu ./cuda/...`,
// so both paths are held to the same checks.
//
// # What is checked
//
// Max and average pooling forward and backward (ceil mode, the ceil-mode
// drop rule, asymmetric padding, both average divisors), LRN forward and
// backward, ReLU backward, channel concat and split, axpy, fill, bias
// gradient, softmax cross-entropy (loss and gradient, and NaN for a bad
// label), the SGD momentum update, Linear (GEMM with a column-bias and
// ReLU epilogue), and a whole Inception module forward and backward with
// every activation and gradient kept on the device, against the CPU path. The convolutions and Gemm are checked by package
// ops/opstest through cuda.Engine.
//
// The float64 references are checked themselves: gradients of nonlinear
// ops (LRN, softmax cross-entropy) against central finite differences,
// those of linear ops (average pooling, concat) with the adjoint identity
// <A x, y> = <x, Aᵀ y>.
//
// # Protocol
//
// Inputs are fresh random values (the seed is logged); every output
// buffer is poisoned with NaN before the kernel runs, so an element a
// kernel fails to write is caught.
//
// # Tolerances
//
// A float32 result r for a float64 reference value v that sums terms t_i
// passes when |r - v| <= tol * Σ|t_i| + AbsTol, with tol = FwdTol for
// forward values and GradTol for gradients.
package cudatest

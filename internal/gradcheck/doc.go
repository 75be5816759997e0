// Package gradcheck compares the symbolic gradients of a Gorgonia
// expression with central finite differences, in float64.
//
// # Method
//
// Check builds a small graph: one input node per Input, the expression under
// test on top, and a scalar cost
//
//	cost = sum(out ⊙ R)
//
// where R is a fixed random tensor (so every output element carries a
// different weight and a wrong index in a backward pass shows up). If the
// expression is already a scalar, cost = out. gorgonia.Grad gives the
// analytic gradient of cost with respect to every input not marked NoGrad;
// the numeric gradient of element i is
//
//	(cost(x + h·e_i) - cost(x - h·e_i)) / 2h
//
// computed by editing the input in place and re-running the same
// TapeMachine (Reset, RunAll). The two agree when
//
//	|analytic - numeric| <= Tol.Abs + Tol.Rel * max(|analytic|, |numeric|).
//
// # Repeated runs
//
// After the finite differences, the machine runs once more at the original
// inputs and the gradients must reproduce the first run's: ops that reuse
// buffers across runs must not carry state from one run into the next.
package gradcheck

// Package solvers updates model parameters from their gradients: stochastic
// gradient descent with momentum and weight decay, learning-rate schedules,
// Polyak averaging of the weights, and a solver state that checkpoints can
// carry.
//
// A parameter is a Param, which is graph.Param: the type a model's
// parameters have, so a trainer passes the model's own parameters
// (inception.Model.Trainable()) and the solver updates their tensors in
// place. A solver reads a unique name, the value and gradient as
// *tensor.Dense (float32 or float64), Frozen (frozen parameters are
// skipped), whether weight decay applies and the learning-rate and decay
// multipliers. The order of the slice does not matter, because all state is
// keyed by name. A parameter made outside a graph needs only those fields:
//
//	p := &solvers.Param{Name: "fc.weight", Value: w, Grad: g, Decay: true}
//
// With a graph.Builder of one's own, a trainer sets Grad of each parameter to
// the value of its gradient node (the node gorgonia.Grad returned for
// Param.Node) after the machine has run.
//
// # SGD
//
// SGD has the semantics of PyTorch's torch.optim.SGD with dampening 0, and
// optionally of torch.nn.utils.clip_grad_norm_ called before it. With base
// rate LR, schedule factor f, momentum mu and weight decay lambda, one step
// is, for every parameter w with gradient g:
//
//	g = g * min(1, ClipNorm / (|G| + 1e-6))   // only with ClipNorm > 0; |G| over all gradients
//	g = g + lambda * w                        // only if Decay is set
//	v = g on the first step, v = mu*v + g after
//	d = g + mu*v (Nesterov) or d = v
//	w = w - LR*f * d
//
// The element-wise update is a kernel of the model's engine
// (ops.Engine.SGDUpdate, SGDConfig.Engine; ops.Reference when none is
// given), the same on every engine; float64 parameters use the reference
// kernel.
//
// The GoogLeNet paper trains with momentum 0.9; Caffe's bvlc_googlenet
// solver adds weight decay 2e-4 and base rate 0.01.
//
// This differs from Gorgonia's Momentum solver, which takes the L2 term from
// the velocity instead of the weights (so on the first step it has no
// effect) and keys its velocities by the position of a parameter in the
// list. TestGorgoniaMomentumDefectNotInherited pins both differences.
//
// # Learning-rate schedules
//
// A Schedule is a pure function of the training Position (steps completed
// and fractional epochs completed), so a resumed run gets exactly the rates
// of an uninterrupted one:
//
//	Constant:  f = 1
//	StepDecay: f = Gamma^floor(t/Period)         (paper: 0.96 every 8 epochs)
//	Poly:      f = (1 - min(t, Max)/Max)^Power   (Caffe quick_solver: power 0.5)
//	Warmup:    f = Then(t) * (Start + (1-Start)*t/Length) for t < Length, Then(t) after
//
// where t counts epochs or steps according to each schedule's Unit.
//
// # Polyak averaging
//
// The paper uses Polyak averaging to build the final model. An Averager
// (built into SGD through SGDConfig.Averaging, or used alone) keeps a
// uniform or exponential running average of each parameter beside it.
// Average returns an averaged tensor by name; SwapIn puts the averages into
// the live parameters for evaluation or export, and SwapOut restores the
// training values.
//
// # State
//
// SGD.State returns a State of plain Go values (step count, velocities and
// averages by name as []float32 or []float64) for a checkpoint writer to
// serialise; SGD.SetState restores it into a solver made with the same
// configuration.
//
// # Testing against PyTorch
//
// TestAgainstPyTorch runs testdata/torch_sgd.py with Debian's
// /usr/bin/python3 and compares whole trajectories (weights, rates,
// averages) with PyTorch's SGD, clip_grad_norm_, StepLR, PolynomialLR,
// LinearLR and AveragedModel on a small least-squares problem. It is skipped
// when that interpreter or torch is missing.
package solvers

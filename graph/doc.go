// Package graph builds model graphs for Gorgonia layer by layer: a Builder
// that keeps the first error, hierarchical names, a registry of parameters
// and batch-norm state, and seeded initialisers.
//
// # Builder
//
// A Builder wraps one gorgonia.ExprGraph. Layer methods take and return
// *Tensor (a node and its shape) and never return errors: the first error is
// kept, every later call is a no-op that returns nil (nil inputs are
// accepted), and Err reports the error with the name of the failing layer.
// A 60-layer model therefore reads as 60 lines and one check:
//
//	b := graph.New(graph.Options{Training: true, Seed: 1})
//	x := b.Input("data", 32, 3, 224, 224)
//	b.Scope("conv1", func() {
//		x = b.Conv("7x7_s2", x, 64, graph.ConvOpts{Kernel: 7, Stride: 2, Pad: 3, ReLU: true})
//	})
//	x = b.MaxPool("pool1", x, graph.PoolOpts{Kernel: 3, Stride: 2, CeilMode: true})
//	if err := b.Err(); err != nil { ... }
//
// Shapes are computed by the builder and asserted against what each op
// produces. With Options.ShapesOnly no graph is built at all: the same code
// computes shapes, parameter counts and multiply-adds (what a summary
// prints) without running any kernel.
//
// # Layers and their defaults
//
// Conv (ConvOpts: Kernel required; zero Stride means 1, zero Pad means none;
// a bias unless NoBias or BatchNorm; optional fused ReLU; optional batch
// norm between the convolution and the ReLU), BatchNorm (BNOpts: zero means
// PyTorch's eps 1e-5 and momentum 0.1), ReLU, MaxPool and AvgPool (PoolOpts:
// square window, zero Stride means 1, optional ceil mode), AdaptiveAvgPool,
// GlobalAvgPool, LRN, Dropout, Flatten, Linear (weights [Out,In] as in
// PyTorch) and Concat along channels. The kernels are those of package ops.
//
// # Names and the parameter registry
//
// Scope pushes a name; layer and parameter names join scopes with '/'
// (Caffe's convention): a convolution "3x3_reduce" inside scope
// "inception_4a" owns "inception_4a/3x3_reduce/w" and ".../b"; its batch
// norm owns ".../bn/scale" and ".../bn/shift" and the running statistics
// ".../bn" (tensors ".../bn/running_mean" and ".../bn/running_var"). A
// repeated layer name is an error. Params lists the parameters in build
// order with their Kind (weight, bias, bn_scale, bn_shift) and whether
// weight decay applies; Param and LookupBN find them by name. A Param is
// the one parameter type of the project: solvers (solvers.Param is
// graph.Param) update its Value in place from its Grad, honouring Frozen,
// Decay, LRMult and DecayMult, and checkpoints copy its Value.
//
// # Initialisation
//
// Every parameter draws from its own random stream, seeded by
// Options.Seed and a hash of its name, so values do not depend on build
// order. Caffe is bvlc_googlenet's xavier (uniform ±sqrt(3/fan_in)) with
// constant bias 0.2; Torchvision is torchvision GoogLeNet's truncated normal
// (std 0.01, ±2σ), batch norm 1 and 0.
//
// # Training and inference
//
// Options.Training fixes the mode when building: dropout masks and batch
// statistics in training graphs, identity dropout and running statistics
// in inference graphs. Options.Values and Options.BNStats let a second
// graph share the tensors and statistics of a first one by name.
package graph

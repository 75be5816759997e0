// Package inception builds GoogLeNet (Szegedy et al., "Going deeper with
// convolutions", 2014) and its Inception modules as Gorgonia graphs.
//
// # Architecture
//
// The network is the stem (conv 7x7/2, max pool, LRN, conv 1x1, conv 3x3,
// LRN, max pool), nine Inception modules with max pools between stages, a
// global average pool, dropout and a linear classifier; two auxiliary
// classifiers tap modules 4a and 4d during training. The modules are data:
// Table1 is Table 1 of the paper as one keyed table with the paper's
// column names (C1x1, C3x3Reduce, C3x3, C5x5Reduce, C5x5, PoolProj), and
// one loop builds the network from it. Each module (Module) has four
// branches concatenated along channels in the order 1x1, 3x3, 5x5, pool
// projection, the dimension-reduced module of Figure 2(b); Figure 2(a) is
// an option (ModuleOpts.Naive). Module is exported for users who build
// their own networks from their own tables.
//
// Layer and parameter names follow Caffe's bvlc_googlenet, the paper's own
// release: "conv1/7x7_s2/w", "inception_4a/3x3_reduce/b",
// "loss1/classifier/w" (auxiliary heads are loss1 and loss2, the main
// classifier loss3). TorchvisionName and FromTorchvisionName map them to
// and from torchvision's state_dict keys.
//
// # Variants and deviations from the paper
//
// Paper (the default) is the Caffe topology: LRN, 5x5 third branches,
// ceil-mode max pools 3x3/2 (112 -> 56 -> 28 -> 14 -> 7), a 3x3/2 pool
// before 5a, dropout 0.4, auxiliary heads of average pool 5x5/3, 1x1 conv
// 128, fc 1024, dropout 0.7 and a linear layer, xavier initialisation with
// bias 0.2. At 224x224 it has 6,998,552 parameters and 1.583 G
// multiply-adds (auxiliary heads: 6,379,728 more).
//
// Everything else is a named Config field, applied at one line of the
// builder:
//
//   - BatchNorm, BNEps: conv (no bias) -> batch norm -> ReLU (torchvision).
//   - NoLRN: no local response normalisation (torchvision).
//   - Branch3Kernel 3: a 3x3 convolution in the "5x5" branch (torchvision,
//     pytorch/vision#906).
//   - LastPoolKernel 2: a 2x2/2 max pool before 5a (torchvision).
//   - Dropout 0.2 (torchvision).
//   - AuxAdaptivePool 4: adaptive 4x4 average pool in the auxiliary heads
//     (torchvision).
//   - SmallStem, smaller widths (Table = MiniTable), batch norm: the mini
//     variant for 28x28 to 64x64 images.
//   - Naive: the modules of Figure 2(a).
//
// Torchvision sets the first six (6,624,904 parameters, 1.498 G
// multiply-adds, parameter names mapping 1:1 to torchvision's). The final
// "avg pool 7x7/1" of the paper is a global average pool, identical at
// 224x224 and still 1024 features at other input sizes. Input channels,
// input size and number of classes are Config fields; an input too small
// for a variant is an error naming the layer that does not fit.
//
// # Training and inference
//
// New builds a Model: a training graph (dropout on, batch statistics,
// auxiliary heads, loss = main + AuxWeight*(aux1 + aux2) with AuxWeight 0.3,
// gradients of every parameter from gorgonia.Grad) whose Step returns the
// losses and logits (StepOutput) and leaves the gradients in Param.Grad, and
// inference graphs without auxiliary heads (Forward) bound to the training
// graph's weight tensors and batch-norm statistics. A solver updates the
// parameters (Trainable, of type graph.Param, which is solvers.Param) in
// place:
//
//	out, err := m.Step(x, labels) // out.Total, out.Logits
//	_, err = sgd.Step(m.Trainable())
//
// Summarize describes a configuration layer by layer (output shape,
// parameters, multiply-adds) without building kernels.
//
// # Features
//
// Model.Features returns the activations of any main-path row of the summary
// (FeatureLayers; "pool5" is the pooled vector before the classifier) from
// an inference graph that stops at the deepest layer asked for: the layers
// after it are neither built nor run.
//
// # Concurrency
//
// A Model is used from one goroutine at a time. For concurrent inference,
// NewRunner builds more inference graphs bound to the same weights, each
// with its own activations; runners run in parallel goroutines and return
// the logits and the default Features (pool5) of one forward pass. Package
// serve builds its worker pool on them.
//
// # Memory layout
//
// Activations are NCHW, row-major: element (n, c, h, w) of a [N,C,H,W]
// tensor is at index ((n*C+c)*H+h)*W+w. Convolution weights are OIHW
// ([K,C,R,S]), linear weights [Out,In], as in PyTorch and Caffe.
//
// # References
//
//   - C. Szegedy et al., "Going deeper with convolutions", CVPR 2015,
//     arXiv:1409.4842 (Table 1, Figure 2, Section 5).
//   - Caffe, models/bvlc_googlenet/train_val.prototxt (layer names, LRN,
//     ceil-mode pools, initialisation).
//   - torchvision, torchvision/models/googlenet.py (the batch-norm variant
//     and its pretrained weights).
package inception

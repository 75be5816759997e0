// Package torchvision imports the weights of torchvision's GoogLeNet
// (torchvision.models.googlenet) into our torchvision variant (package
// inception, Torchvision config).
//
// A state dict is read by package torchpth (PyTorch's .pth/.pt files,
// without Python) or package safetensors; FromTorchPth and FromSafetensors
// turn either into a StateDict, and Import maps it onto the model by
// torchvision's key names (inception.TorchvisionName): every convolution
// weight, batch-norm scale, shift, running mean and running variance, and
// the classifier. The auxiliary heads' tensors (aux1.*, aux2.*) are
// optional, all or nothing; num_batches_tracked counters are ignored.
// Input channels and classes are read from conv1.conv.weight and
// fc.weight. Import is strict: a missing or unexpected key, a shape that
// differs from the variant's, an integer tensor where a weight belongs, or
// a NaN or Inf value is an error naming the tensors.
//
// # Input contract
//
// Contract tells the preprocessing the weights were published with
// (package preprocess): torchvision's transform_input for the 1000-class
// ImageNet layout, its plain ImageNet normalisation for other three-channel
// models. Means and Stds are that normalisation on the 0..255 scale.
//
// Package interchange/convert reads any weight file by its format and
// calls Import for state dicts; its tests compare the imported model's
// logits with PyTorch's (a relative L2 error of about 1e-5,
// docs/interchange.md).
package torchvision

package cuda

import "github.com/pkg/errors"

// ErrNotBuilt is returned by NewEngine in a binary built without the gpu
// tag (the default build never links the CUDA driver).
var ErrNotBuilt = errors.New("cuda: this binary was built without GPU support (rebuild with -tags gpu)")

// EngineOptions configure NewEngineWith.
type EngineOptions struct {
	// NoLibraries keeps every layer on our PTX kernels (cuDNN and cuBLAS
	// are not loaded), as GOOGLENET_CUDA_LIBS=none does.
	NoLibraries bool
	// Lib configures cuDNN and cuBLAS (TF32 or strict FP32, the
	// workspace bound, where the path lines go).
	Lib LibOptions
}

// Devices are the values of the CLI's --device flag.
var Devices = []string{"cpu", "gpu"}

// EngineFor returns the engine for a --device value: nil for "cpu" (the
// CPU path), a GPU engine for "gpu" (ErrNotBuilt unless the binary was
// built with -tags gpu). The caller closes a non-nil engine.
func EngineFor(device string) (*Engine, error) { return EngineForWith(device, EngineOptions{}) }

// EngineForWith is EngineFor with the GPU engine configured by o.
func EngineForWith(device string, o EngineOptions) (*Engine, error) {
	switch device {
	case "", "cpu":
		return nil, nil
	case "gpu", "cuda":
		return NewEngineWith(o)
	}
	return nil, errors.Errorf("cuda: unknown device %q (want one of %v)", device, Devices)
}

//go:build !gpu

package cuda

import "github.com/pkg/errors"

// Built reports whether this binary was built with the gpu tag.
const Built = false

// ErrNotBuilt is returned by NewEngine in a binary built without the gpu
// tag (the default build never links the CUDA driver).
var ErrNotBuilt = errors.New("cuda: this binary was built without GPU support (rebuild with -tags gpu)")

// NewEngine returns ErrNotBuilt: GPU support needs `go build -tags gpu`.
func NewEngine() (*Engine, error) { return nil, ErrNotBuilt }

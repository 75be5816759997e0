//go:build !gpu

package cuda

// Built reports whether this binary was built with the gpu tag.
const Built = false

// NewEngine returns ErrNotBuilt: GPU support needs `go build -tags gpu`.
func NewEngine() (*Engine, error) { return nil, ErrNotBuilt }

// NewEngineWith returns ErrNotBuilt: GPU support needs `go build -tags gpu`.
func NewEngineWith(EngineOptions) (*Engine, error) { return nil, ErrNotBuilt }

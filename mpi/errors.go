package mpi

import "github.com/pkg/errors"

// ErrNotCompiled is returned (wrapped) by Init when the process was started
// by an MPI launcher with more than one rank but the binary was built
// without the mpi build tag.
var ErrNotCompiled = errors.New("MPI support not compiled in (rebuild with -tags mpi)")

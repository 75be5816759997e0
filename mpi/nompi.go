//go:build !mpi

package mpi

import "github.com/pkg/errors"

// Compiled reports whether the MPI binding is compiled in (build tag mpi).
func Compiled() bool { return false }

// Init prepares the world communicator. Without the mpi build tag there is
// no MPI: Init succeeds and World stays Local, unless the environment says
// this process is one of several ranks of an MPI job (see Launched), in
// which case Init returns an error that wraps ErrNotCompiled: N copies that
// each believe they are alone would train N unrelated models and overwrite
// each other's checkpoints.
func Init() error {
	if l, ok := Launched(); ok && l.Size > 1 {
		return errors.Wrapf(ErrNotCompiled, "mpi: launched as rank %d of %d by %s", l.Rank, l.Size, l.Launcher)
	}
	return nil
}

// Finalize does nothing without the mpi build tag.
func Finalize() error { return nil }

// World returns Local without the mpi build tag.
func World() Comm { return Local{} }

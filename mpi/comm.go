package mpi

import (
	"fmt"
	"os"
	"strconv"

	"github.com/pkg/errors"
)

// Comm is a communicator: the group of processes (ranks) that take part in
// collective operations. Every rank must call the same collectives in the
// same order with buffers of the same length; a rank that does not will
// make the others wait (see the package documentation on failures).
//
// World returns the communicator of all ranks; in the default build, or
// before Init, it is Local: one rank, where every collective is a no-op or a
// copy. Code written against Comm therefore runs unchanged in one process.
type Comm interface {
	// Rank is this process's index in [0, Size).
	Rank() int
	// Size is the number of ranks.
	Size() int
	// Available reports whether the communicator is backed by MPI (false
	// for Local).
	Available() bool
	// Barrier returns when every rank has entered it.
	Barrier() error
	// BcastFloat32 overwrites buf on every rank with root's buf.
	BcastFloat32(buf []float32, root int) error
	// BcastBytes overwrites buf on every rank with root's buf.
	BcastBytes(buf []byte, root int) error
	// AllreduceSumFloat32 replaces buf on every rank, in place, with the
	// elementwise sum of every rank's buf.
	AllreduceSumFloat32(buf []float32) error
	// AllreduceSumFloat64 is AllreduceSumFloat32 for float64.
	AllreduceSumFloat64(buf []float64) error
	// Allgather writes every rank's send (all of the same length) into
	// recv, rank r's at recv[r*len(send):]; len(recv) must be
	// Size()*len(send).
	Allgather(send, recv []byte) error
	// Abort ends every rank of the job with the given exit code, as
	// MPI_Abort does; with MPI it does not return. On Local it does nothing
	// and returns nil: there is no other rank to stop, and the caller exits
	// with its own status. It may be called from any goroutine.
	Abort(code int) error
}

// Local is the single-process communicator: Rank 0, Size 1, Available
// false. Barrier returns at once, broadcasts from root 0 and all-reduces
// leave their buffers unchanged (the sum over one rank), Allgather copies
// send into recv, and Abort does nothing. Argument errors (a root other than
// 0, a recv of the wrong length) are reported as with MPI.
type Local struct{}

var _ Comm = Local{}

// Rank returns 0.
func (Local) Rank() int { return 0 }

// Size returns 1.
func (Local) Size() int { return 1 }

// Available returns false.
func (Local) Available() bool { return false }

// Barrier returns nil.
func (Local) Barrier() error { return nil }

// BcastFloat32 checks root and leaves buf unchanged.
func (l Local) BcastFloat32(buf []float32, root int) error { return checkRoot(l, "Bcast", root) }

// BcastBytes checks root and leaves buf unchanged.
func (l Local) BcastBytes(buf []byte, root int) error { return checkRoot(l, "Bcast", root) }

// AllreduceSumFloat32 leaves buf unchanged.
func (Local) AllreduceSumFloat32(buf []float32) error { return nil }

// AllreduceSumFloat64 leaves buf unchanged.
func (Local) AllreduceSumFloat64(buf []float64) error { return nil }

// Allgather copies send into recv.
func (l Local) Allgather(send, recv []byte) error {
	if err := checkGather(l, send, recv); err != nil {
		return err
	}
	copy(recv, send)
	return nil
}

// Abort returns nil.
func (Local) Abort(code int) error { return nil }

func checkRoot(c Comm, op string, root int) error {
	if root < 0 || root >= c.Size() {
		return errors.Errorf("mpi: %s: root %d out of range [0,%d)", op, root, c.Size())
	}
	return nil
}

func checkGather(c Comm, send, recv []byte) error {
	if len(recv) != c.Size()*len(send) {
		return errors.Errorf("mpi: Allgather: recv has %d bytes, want %d ranks x %d", len(recv), c.Size(), len(send))
	}
	return nil
}

// Launch describes the MPI job this process was started in, as the launcher
// (mpirun, mpiexec, srun) announces it in the environment.
type Launch struct {
	Rank, Size int
	// Launcher names the variables found: "Open MPI", "PMI" (MPICH, Intel
	// MPI, Slurm's srun) or "" when none.
	Launcher string
}

// Launched reads the environment variables that MPI launchers set for each
// process (Open MPI's OMPI_COMM_WORLD_RANK/SIZE, PMI_RANK/PMI_SIZE of MPICH
// and srun). ok is false when none are set, i.e. the process was started
// directly. It works in every build, so a program built without the mpi tag
// can refuse to run as one of N>1 ranks instead of silently training N
// independent copies.
func Launched() (l Launch, ok bool) {
	for _, v := range []struct{ rank, size, name string }{
		{"OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "Open MPI"},
		{"PMI_RANK", "PMI_SIZE", "PMI"},
	} {
		r, err1 := strconv.Atoi(os.Getenv(v.rank))
		s, err2 := strconv.Atoi(os.Getenv(v.size))
		if err1 == nil && err2 == nil && s > 0 && r >= 0 && r < s {
			return Launch{Rank: r, Size: s, Launcher: v.name}, true
		}
	}
	return Launch{}, false
}

// Error is an error reported by an MPI call.
type Error struct {
	Op    string // the MPI function, e.g. "MPI_Allreduce"
	Code  int    // the return code
	Class int    // its error class (MPI_Error_class)
	Msg   string // MPI_Error_string
}

func (e *Error) Error() string {
	return fmt.Sprintf("mpi: %s: %s (code %d, class %d)", e.Op, e.Msg, e.Code, e.Class)
}

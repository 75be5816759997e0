//go:build mpi

package mpi

/*
#cgo pkg-config: ompi-c
#include <stdlib.h>
#include <mpi.h>

// Wrappers: Open MPI's handles (MPI_COMM_WORLD, MPI_FLOAT, MPI_IN_PLACE...)
// are macros over addresses of globals that cgo cannot use directly.

static int gm_init(int *provided) {
	return MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, provided);
}
// Report errors as return codes instead of aborting inside MPI.
static int gm_errors_return(void) {
	return MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
}
static int gm_initialized(int *flag) { return MPI_Initialized(flag); }
static int gm_finalize(void) { return MPI_Finalize(); }
static int gm_rank(int *r) { return MPI_Comm_rank(MPI_COMM_WORLD, r); }
static int gm_size(int *s) { return MPI_Comm_size(MPI_COMM_WORLD, s); }
static int gm_barrier(void) { return MPI_Barrier(MPI_COMM_WORLD); }
static int gm_bcast_f32(float *buf, int n, int root) {
	return MPI_Bcast(buf, n, MPI_FLOAT, root, MPI_COMM_WORLD);
}
static int gm_bcast_bytes(void *buf, int n, int root) {
	return MPI_Bcast(buf, n, MPI_BYTE, root, MPI_COMM_WORLD);
}
static int gm_allreduce_f32(float *buf, int n) {
	return MPI_Allreduce(MPI_IN_PLACE, buf, n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
}
static int gm_allreduce_f64(double *buf, int n) {
	return MPI_Allreduce(MPI_IN_PLACE, buf, n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
}
static int gm_allgather(void *send, int n, void *recv) {
	return MPI_Allgather(send, n, MPI_BYTE, recv, n, MPI_BYTE, MPI_COMM_WORLD);
}
static int gm_abort(int code) { return MPI_Abort(MPI_COMM_WORLD, code); }
static void gm_error(int code, char *buf, int *len, int *class) {
	*len = 0;
	*class = -1;
	if (MPI_Error_string(code, buf, len) != MPI_SUCCESS) *len = 0;
	if (MPI_Error_class(code, class) != MPI_SUCCESS) *class = -1;
}
*/
import "C"

import (
	"math"
	"os"
	"runtime"
	"sync"
	"unsafe"

	"github.com/pkg/errors"
)

// Compiled reports whether the MPI binding is compiled in (build tag mpi).
func Compiled() bool { return true }

// maxCount is the largest element count of one MPI call (a C int); longer
// buffers are sent in chunks.
const maxCount = math.MaxInt32

// The MPI library is driven from one goroutine locked to one OS thread (the
// one that called MPI_Init_thread), so MPI_THREAD_FUNNELED suffices whatever
// goroutine the caller runs on. Calls from several goroutines are
// serialised in the order they reach that thread, which is unspecified:
// every rank must issue its collectives in the same order, so a trainer
// issues them from one goroutine.
type mpiState struct {
	// mu is held for reading during each call (and by World) and for
	// writing by Init and Finalize, so a call never meets a closed channel
	// and World does not wait for a collective to finish.
	mu     sync.RWMutex
	calls  chan func()
	rank   int
	size   int
	inited bool
	done   bool // finalised: MPI cannot be initialised again
}

var world mpiState

// Init initialises MPI (MPI_Init_thread with MPI_THREAD_FUNNELED, called on
// a dedicated OS thread), makes MPI_COMM_WORLD return errors instead of
// aborting (MPI_ERRORS_RETURN), and makes World return the MPI communicator.
// It may be called once per process; a process started without a launcher
// becomes a world of one rank (an MPI "singleton").
//
// Unless OMPI_MCA_opal_signal is already set, Init sets it to "" so Open MPI
// does not replace the Go runtime's handlers for SIGSEGV, SIGBUS, SIGFPE and
// SIGABRT (Go turns a nil dereference into a panic through SIGSEGV).
func Init() error {
	world.mu.Lock()
	defer world.mu.Unlock()
	if world.inited {
		return errors.New("mpi: Init called twice")
	}
	if world.done {
		return errors.New("mpi: Init after Finalize (MPI cannot be initialised again)")
	}
	if _, set := os.LookupEnv("OMPI_MCA_opal_signal"); !set {
		if err := os.Setenv("OMPI_MCA_opal_signal", ""); err != nil {
			return errors.Wrap(err, "mpi: Init")
		}
	}
	calls := make(chan func())
	ready := make(chan error)
	go func() {
		// Never unlocked: the goroutine owns the MPI thread until Finalize,
		// and exiting while locked ends the thread.
		runtime.LockOSThread()
		var provided C.int
		if rc := C.gm_init(&provided); rc != C.MPI_SUCCESS {
			// MPI_Error_string is not allowed before a successful init.
			ready <- &Error{Op: "MPI_Init_thread", Code: int(rc), Class: -1, Msg: "initialisation failed"}
			return
		}
		if rc := C.gm_errors_return(); rc != C.MPI_SUCCESS {
			ready <- mpiError("MPI_Comm_set_errhandler", rc)
			return
		}
		// Any provided level will do (even MPI_THREAD_SINGLE): only this
		// thread ever calls MPI, apart from Abort.
		ready <- nil
		for f := range calls {
			f()
		}
	}()
	if err := <-ready; err != nil {
		return err
	}
	world.calls = calls
	world.inited = true
	var r, s C.int
	if err := world.call("MPI_Comm_rank", func() C.int { return C.gm_rank(&r) }); err != nil {
		return err
	}
	if err := world.call("MPI_Comm_size", func() C.int { return C.gm_size(&s) }); err != nil {
		return err
	}
	world.rank, world.size = int(r), int(s)
	// A launcher of another MPI implementation (MPICH's mpiexec starting an
	// Open MPI binary, say) starts N singletons that each see a world of
	// one and would train N unrelated models.
	if l, ok := Launched(); ok && l.Size != world.size {
		return errors.Errorf("mpi: launched as rank %d of %d by %s, but MPI sees a world of %d: the launcher does not match the MPI library this binary uses (Open MPI)",
			l.Rank, l.Size, l.Launcher, world.size)
	}
	return nil
}

// Finalize ends MPI (MPI_Finalize). Every rank must call it before exiting
// normally; afterwards World returns Local again and Init cannot be called.
func Finalize() error {
	world.mu.Lock()
	defer world.mu.Unlock()
	if !world.inited {
		return errors.New("mpi: Finalize without Init")
	}
	err := world.call("MPI_Finalize", func() C.int { return C.gm_finalize() })
	close(world.calls)
	world.inited, world.done = false, true
	return err
}

// World returns the communicator of all ranks (MPI_COMM_WORLD) between Init
// and Finalize, and Local otherwise.
func World() Comm {
	world.mu.RLock()
	defer world.mu.RUnlock()
	if !world.inited {
		return Local{}
	}
	return mpiComm{rank: world.rank, size: world.size}
}

// call runs f on the MPI thread; world.mu must be held (either way).
func (w *mpiState) call(op string, f func() C.int) error {
	if !w.inited {
		return errors.Errorf("mpi: %s: MPI is not initialised (or already finalised)", op)
	}
	done := make(chan error)
	w.calls <- func() {
		rc := f()
		if rc != C.MPI_SUCCESS {
			done <- mpiError(op, rc)
			return
		}
		done <- nil
	}
	return <-done
}

// mpiError converts a return code; it must run on the MPI thread.
func mpiError(op string, rc C.int) error {
	buf := (*C.char)(C.malloc(C.MPI_MAX_ERROR_STRING + 1))
	defer C.free(unsafe.Pointer(buf))
	var n, class C.int
	C.gm_error(rc, buf, &n, &class)
	msg := "unknown error"
	if n > 0 {
		msg = C.GoStringN(buf, n)
	}
	return &Error{Op: op, Code: int(rc), Class: int(class), Msg: msg}
}

// errorFromCode converts an MPI return code to an *Error (for tests).
func errorFromCode(op string, code int) error {
	world.mu.RLock()
	defer world.mu.RUnlock()
	var err error
	if cerr := world.call(op, func() C.int { err = mpiError(op, C.int(code)); return C.MPI_SUCCESS }); cerr != nil {
		return cerr
	}
	return err
}

// errCount is MPI_ERR_COUNT (for tests).
const errCount = int(C.MPI_ERR_COUNT)

// mpiComm is MPI_COMM_WORLD.
type mpiComm struct{ rank, size int }

var _ Comm = mpiComm{}

func (c mpiComm) Rank() int       { return c.rank }
func (c mpiComm) Size() int       { return c.size }
func (c mpiComm) Available() bool { return true }

// do runs one MPI call on the MPI thread.
func do(op string, f func() C.int) error {
	world.mu.RLock()
	defer world.mu.RUnlock()
	return world.call(op, f)
}

func (c mpiComm) Barrier() error {
	return do("MPI_Barrier", func() C.int { return C.gm_barrier() })
}

func (c mpiComm) BcastFloat32(buf []float32, root int) error {
	if err := checkRoot(c, "Bcast", root); err != nil {
		return err
	}
	for len(buf) > 0 {
		n := min(len(buf), maxCount)
		p := (*C.float)(unsafe.Pointer(&buf[0]))
		if err := do("MPI_Bcast", func() C.int { return C.gm_bcast_f32(p, C.int(n), C.int(root)) }); err != nil {
			return err
		}
		buf = buf[n:]
	}
	return nil
}

func (c mpiComm) BcastBytes(buf []byte, root int) error {
	if err := checkRoot(c, "Bcast", root); err != nil {
		return err
	}
	for len(buf) > 0 {
		n := min(len(buf), maxCount)
		p := unsafe.Pointer(&buf[0])
		if err := do("MPI_Bcast", func() C.int { return C.gm_bcast_bytes(p, C.int(n), C.int(root)) }); err != nil {
			return err
		}
		buf = buf[n:]
	}
	return nil
}

func (c mpiComm) AllreduceSumFloat32(buf []float32) error {
	for len(buf) > 0 {
		n := min(len(buf), maxCount)
		p := (*C.float)(unsafe.Pointer(&buf[0]))
		if err := do("MPI_Allreduce", func() C.int { return C.gm_allreduce_f32(p, C.int(n)) }); err != nil {
			return err
		}
		buf = buf[n:]
	}
	return nil
}

func (c mpiComm) AllreduceSumFloat64(buf []float64) error {
	for len(buf) > 0 {
		n := min(len(buf), maxCount)
		p := (*C.double)(unsafe.Pointer(&buf[0]))
		if err := do("MPI_Allreduce", func() C.int { return C.gm_allreduce_f64(p, C.int(n)) }); err != nil {
			return err
		}
		buf = buf[n:]
	}
	return nil
}

func (c mpiComm) Allgather(send, recv []byte) error {
	if err := checkGather(c, send, recv); err != nil {
		return err
	}
	if len(send) == 0 {
		return nil
	}
	if len(send) > maxCount || len(recv) > maxCount {
		return errors.Errorf("mpi: Allgather: %d bytes per rank is too large", len(send))
	}
	s, r := unsafe.Pointer(&send[0]), unsafe.Pointer(&recv[0])
	n := len(send)
	return do("MPI_Allgather", func() C.int { return C.gm_allgather(s, C.int(n), r) })
}

// Abort calls MPI_Abort(MPI_COMM_WORLD, code) directly from the calling
// goroutine (not through the MPI thread, which may be blocked in a
// collective that will never complete). Open MPI then kills every rank of
// the job, and mpirun exits with code.
func (c mpiComm) Abort(code int) error {
	C.gm_abort(C.int(code))
	// MPI_Abort returns only if it failed; end this rank anyway.
	os.Exit(max(code, 1))
	return nil
}

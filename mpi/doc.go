// Package mpi is a small binding to the MPI calls that synchronous
// data-parallel training needs, and the data-parallel building blocks on
// top of them: gradient buckets, broadcast of initial weights, a check that
// all ranks hold bit-identical weights, and averaging of batch-norm
// statistics.
//
// # Builds
//
// The binding to the MPI library (Open MPI through cgo, found with
// pkg-config's ompi-c) is compiled only with the build tag mpi:
//
//	apt-get install openmpi-bin libopenmpi-dev pkg-config
//	go build -tags mpi ./cmd/googlenet
//	mpirun -np 4 ./googlenet train ...
//
// The default build needs no MPI and no cgo. There World returns Local, a
// communicator of one rank whose collectives are no-ops or copies, so a
// trainer calls the same API everywhere. Init in the default build refuses
// to run when the environment shows the process is one of several ranks of
// an MPI job (ErrNotCompiled), instead of letting N processes train N
// unrelated models; Launched reads that environment in every build.
//
// # Communicators and errors
//
// Init calls MPI_Init_thread on a dedicated OS thread and from then on
// every MPI call runs on that thread, serialised, so callers may use any
// goroutine (MPI_THREAD_FUNNELED suffices). MPI_COMM_WORLD gets the
// MPI_ERRORS_RETURN handler: a failing call returns an *Error with MPI's
// code, class and message instead of aborting inside the library. World
// returns the Comm of all ranks; Finalize ends MPI (once per process).
// Init fails when the launcher's environment announces another world size
// than MPI reports (a launcher from another MPI implementation starts N
// singletons).
// Init also keeps Open MPI from installing its own handlers for SIGSEGV,
// SIGBUS, SIGFPE and SIGABRT (OMPI_MCA_opal_signal=""), which would
// otherwise turn Go's nil-pointer panics into MPI aborts.
//
// Comm offers Rank, Size, Barrier, BcastFloat32, BcastBytes,
// AllreduceSumFloat32 (in place), AllreduceSumFloat64, Allgather (bytes) and
// Abort. Buffers longer than 2^31-1 elements are sent in chunks.
//
// # Data-parallel building blocks
//
// Buckets lays out a model's parameters, in a fixed order, in a few large
// float32 buffers (DefaultBucketBytes, 25 MiB, as PyTorch DDP). Per step:
//
//	b.AllreduceMean(comm, grads) // pack, 1 all-reduce per bucket, /Size, unpack
//
// Once after building the model: b.CheckLayout(comm) (same model on every
// rank) and b.Broadcast(comm, 0, weights) (rank 0's initial or resumed
// weights everywhere). CheckIdentical(comm, what, weights...) hashes the
// weights' bit patterns and compares the hashes of all ranks (one 8-byte
// all-gather); synchronous SGD keeps them bit-identical because every rank
// applies the same averaged gradient with the same solver state.
// AverageFloat64s averages batch-norm running statistics across ranks at
// checkpoint time (the policy is in docs/distributed.md). Shard cuts a
// global batch (Size x per-rank batch, the same on every rank) into this
// rank's part, StepsPerEpoch counts the full global batches of an epoch,
// and Buckets.Stats reports the time spent in the all-reduces (the
// communication time per step).
//
// The helpers take plain slices ([]float32 per parameter), not Gorgonia
// tensors, so this package depends on nothing but the standard library and
// github.com/pkg/errors; a trainer passes each parameter's backing array
// (tensor.Dense.Data().([]float32)). internal/mpitest/googlenet.go does
// exactly that with inception.Model and solvers.SGD: broadcast, per-step
// gradient averaging, identity check and batch-norm averaging, in about 60
// lines.
//
// # Failures
//
// A collective returns only when every rank has joined it, so a rank that
// stops calling collectives makes the others wait. Three things keep a job
// from hanging:
//
//   - A rank that hits an error calls Comm.Abort(code): MPI_Abort makes the
//     launcher kill every rank, and mpirun exits with code (about 0.5-1.5 s
//     with Open MPI 4.1 on one machine).
//   - A rank that exits without MPI_Finalize, whatever its status (a Go
//     panic exits with 2, os.Exit with its argument, a signal kills it), is
//     noticed by Open MPI's mpirun, which kills the other ranks and exits
//     non-zero ("mpirun detected that one or more processes exited with
//     non-zero status, thus causing the job to be terminated"; status 0
//     without MPI_Finalize is "exiting improperly", and mpirun exits with 1).
//   - Errors from MPI itself come back as *Error (MPI_ERRORS_RETURN), so
//     the rank can report and Abort.
//
// The package's tests check all three with mpirun -np 2 (see
// internal/mpitest and scripts/mpi-test.sh).
package mpi

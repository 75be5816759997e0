// Package train trains GoogLeNet models: the loop that ties a dataset
// (package data), a model (package inception) and a solver (package solvers)
// together, with evaluation, metrics, learning curves, checkpoints and
// resumption. The `googlenet train` command is a thin front end to Run; a
// notebook calls the same function.
//
// # A run
//
// Run(ctx, cfg, reporter) trains cfg.Epochs epochs of SGD with momentum,
// L2 weight decay and a learning-rate schedule (step, poly or constant, with
// an optional linear warm-up; see Config), the auxiliary losses weighted by
// Model.AuxWeight (0.3). After every epoch it evaluates top-1 and top-5
// accuracy on the validation split (with the Polyak-averaged weights when
// Config.Polyak is set) and writes, in cfg.Out:
//
//	metrics.jsonl                  one JSON object per epoch (Metrics): losses, train and
//	                               validation top-1/top-5, learning rate, img/s, wall time
//	curves.png                     loss and accuracy per epoch (gonum/plot), redrawn each epoch
//	labels.txt                     class names, one a line
//	checkpoint-<step>.safetensors  after every epoch and on interruption, the last KeepLast kept
//	model.safetensors              at the end: the evaluated weights, without solver state
//
// Every file is written atomically (a temporary file, then a rename).
//
// # Interruption and resumption
//
// Cancelling ctx (the command does it on SIGINT and SIGTERM) stops the run
// after the step in progress, writes a checkpoint with the position inside
// the epoch and returns an error wrapping ErrInterrupted. Config.Resume
// continues from the newest checkpoint in Out, and the result is bit for bit
// the one of an uninterrupted run with the same seed, because everything
// random is a function of saved positions: the data order of an epoch is
// drawn from (Seed, epoch) and the loader restarts inside it (data.Loader's
// EpochFrom), dropout masks are drawn from (Seed, step) (ops.RandState), the
// solver state (step, velocities, Polyak averages) and the batch-norm
// statistics are in the checkpoint, and so are the partial sums of the
// interrupted epoch's metrics. TestResumeBitIdentical interrupts a run twice
// and compares weights, statistics, solver state and metrics with an
// uninterrupted run. A resumed run must use the same recipe (data, batch,
// rates, schedule, seed, ...); Run refuses one that differs, naming the
// settings, and refuses to start a new run in a folder holding checkpoints.
//
// # Data-parallel training
//
// Config.Comm takes an mpi.Comm. With more than one rank, rank 0's weights
// are broadcast, each rank reads its shard of every epoch's order, gradients
// are averaged after each step (mpi.Buckets, before Config.GradHook and the
// solver), batch-norm statistics are averaged at the end of each epoch,
// validation counts are summed, a stop request on one rank stops all of them
// at the same step, and only rank 0 reports and writes files. Config.GradHook
// is the place for other gradient transformations.
//
// # Inputs
//
// Images are normalised with the MNIST statistics for MNIST, ImageNet's for
// photographs of varying size, and otherwise with per-channel statistics of
// the first 1000 training images. Without Config.Augment, training images
// are only resized to the input size; with it, they get the paper's
// augmentation (data.TrainTransform). A batch made short by an unreadable
// image is padded by repeating its own images, because the training graph
// has a fixed batch size.
package train

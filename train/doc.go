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
// statistics are in the checkpoint, and so is the trainer's own state as
// typed fields (checkpoint.Trainer: the recipe, the partial sums of the
// interrupted epoch's metrics, the dropout state). Checkpoints written
// before that state was typed still resume (TestResumeOldCheckpoint). TestResumeBitIdentical interrupts a run twice
// and compares weights, statistics, solver state and metrics with an
// uninterrupted run. A resumed run must use the same recipe (data, batch,
// rates, schedule, seed, ...); Run refuses one that differs, naming the
// settings, and refuses to start a new run in a folder holding checkpoints.
//
// # On a GPU
//
// With Config.Device (googlenet train --device gpu) the network runs as a
// device-resident cuda.Net: forward, losses, backward with the CPU graph's
// dropout masks, the SGD update (momentum, weight decay, the schedule's
// rate, LRMult and DecayMult, frozen parameters) and the Polyak averages
// stay on the device, and validation runs there in evaluation mode. The
// host solver keeps the step count; checkpoints and the final model are
// written after copying the device's weights, momentum, averages,
// batch-norm statistics and dropout stream to the host, and a resumed run
// uploads them, so a device run resumes as exactly as a CPU run
// (TestDeviceResume, on the CPU emulation); the checkpoints are the same
// as a CPU run's, so either resumes the other (TestResumeAcrossDevices). TestDeviceTrainMatchesCPU
// compares a device run with the CPU's step by step. Run refuses at the
// start what the device does not implement: several ranks, GradHook, a
// float64 model, batch norms with frozen scale and shift. The device
// checks each step's loss for NaN and infinity (ErrNonFinite) where the
// host solver checks every gradient.
//
// # Data-parallel training
//
// Config.Comm takes an mpi.Comm (mpi.World() in a program started by mpirun;
// `googlenet train --distributed` does that). With R > 1 ranks and per-rank
// batch B, a step trains on a global batch of G = R*B images:
//
//   - Rank 0 alone looks for the checkpoint to resume and sends it to the
//     others; rank 0's weights (fresh or resumed) are broadcast, and every
//     rank checks that all built the same model (mpi.Buckets.CheckLayout).
//   - Each epoch's order is the one a single process with batch G draws
//     from the seed; at step t rank r reads positions [r*B, (r+1)*B) of
//     global batch t (mpi.Shard's cut, served by the loader through a view
//     of the epoch), so R ranks with batch B take the steps of one process
//     with batch G, up to float32 round-off in the gradient sums. The test
//     TestMPIDataParallel checks this through mpirun: bit-identical weights
//     on the ranks, within 1e-6 of one process. Only the random augmentation
//     of an image differs (it is drawn from its position in the view).
//   - Gradients are averaged after each step, one all-reduce per bucket
//     (mpi.Buckets.AllreduceMean, before Config.GradHook and the solver), so
//     solver and Polyak state stay identical without being communicated;
//     mpi.CheckIdentical verifies the weights after every epoch.
//   - Batch-norm statistics are local during training and averaged over
//     the ranks at the end of each epoch and on interruption (the policy of
//     docs/distributed.md); validation counts are summed over the ranks'
//     shards of the validation set.
//   - A stop request (context cancellation) on any rank stops all of them
//     at the same step; only rank 0 writes files and reports the run, the
//     other ranks report their own steps (see Reporter); Progress.Comm and
//     Result.Comm give the time spent in the all-reduces.
//
// Hyper-parameters stay per global batch: the learning rate is the user's
// (scale it with G, the linear scaling rule, see docs/distributed.md), and
// a checkpoint can only be resumed with the same number of ranks and batch.
//
// # Inputs
//
// Images are normalised with the MNIST statistics for MNIST, ImageNet's for
// photographs of varying size, and otherwise with per-channel statistics of
// the first 1000 training images; a run started from other weights
// (Config.InitFrom) uses theirs when they record them, Config.Input
// replaces either with an input contract's encoding, and a resumed run uses
// its checkpoint's. Without Config.Augment, training images
// are only resized to the input size; with it, they get the paper's
// augmentation (data.TrainTransform). A batch made short by an unreadable
// image is padded by repeating its own images, because the training graph
// has a fixed batch size.
//
// # Fine-tuning
//
// Config.InitFrom starts from the weights of any file eval.LoadModel reads:
// tensors whose names and shapes match are loaded, the classifiers start
// afresh when the classes differ (checkpoint.Checkpoint.Transfer).
// Config.Freeze and Config.FreezeThrough freeze parameters: the model is
// built with inception.Options.Frozen, so the solver never sees them and the
// backward pass computes only what the trainable ones need. Config.LRMult and
// Config.DecayMult scale the rate and the decay per parameter-name prefix.
// Every step's loss goes to StepsFile, and the curves plot it.
package train

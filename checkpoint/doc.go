// Package checkpoint saves and restores a GoogLeNet being trained: its
// weights, batch-norm running statistics, solver state and metadata, in one
// safetensors file.
//
// # Layout
//
// A checkpoint is a standard safetensors file (package
// interchange/safetensors), readable by Python's safetensors.numpy.load_file
// or safetensors.torch.load_file. Its tensors are
//
//	<parameter name>                   F32 (F64 for float64 models): the weights, by the
//	                                   names of package inception ("inception_4a/3x3/w")
//	<bn layer>/running_mean            F64: batch-norm running mean
//	<bn layer>/running_var             F64: batch-norm running (unbiased) variance
//	solver.velocity/<parameter>        momentum buffer of SGD
//	solver.average/<parameter>         Polyak average of the parameter
//	solver.average_count/<parameter>   I64 scalar: values folded into that average
//
// Running statistics are stored in float64, as the model keeps them, so that a
// resumed run continues bit for bit. The "__metadata__" object holds strings:
// format ("googlenet-checkpoint"), format_version (1), variant, config (the
// model's inception.Config as JSON, without the initialiser), dtype, classes
// (the count), labels (JSON array of class names), input_size, in_channels,
// means and stds (JSON arrays, 0..255 scale), input_contract (the input
// contract of package preprocess as JSON, when Meta.Input is set), step (optimizer steps), epoch
// (complete epochs), epoch_step (batches into the next epoch), seed,
// solver_state_version and solver_step when solver state is present, trainer
// (the JSON of Checkpoint.Trainer: the training run's settings, the sums of
// a partial epoch and the dropout state) when a trainer wrote it, and any
// Meta.Extra entries. Checkpoints written before the trainer entry carried
// the same state as the strings train_recipe and train_partial; Load reads
// them into Trainer.
//
// # Strictness
//
// Load rejects files that are not ours (format entry), versions it does not
// know, NaN or Inf values, malformed metadata, statistics that are not F64
// vectors and solver entries that belong to no weight. Apply rejects, naming
// the tensors, checkpoints with missing or unexpected weights or statistics,
// and shapes or dtypes that differ from the model; it changes nothing on
// error. Save writes atomically (temporary file, then rename).
//
// # Use
//
//	ck, err := checkpoint.FromModel(model, solver, checkpoint.Meta{Classes: classes, Epoch: 3})
//	err = ck.Save("out/checkpoint-00001407.safetensors")
//
//	ck, err := checkpoint.Load(path)
//	model, err := ck.NewModel(0)      // or ck.Apply(existingModel)
//	err = solver.SetState(*ck.Solver) // continue training
//	*model.Rand() = ck.Trainer.Dropout // when a trainer wrote it
//
// Averaged returns the checkpoint with its Polyak averages as the weights, for
// evaluation or export.
package checkpoint

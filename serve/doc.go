// Package serve answers image classification and embedding requests from
// many goroutines with one copy of a model's weights: a Classifier that
// batches requests dynamically, an HTTP API over it with health, Prometheus
// metrics and limits, and a loopback load generator.
//
// # Classifier
//
// Load (or New) builds a Classifier from any weights file the project
// reads (checkpoints, torchvision state dicts, ONNX). Classify and Embed
// take decoded images of any size; the input contract of the weights
// (package preprocess: resize, crop, channel order, scale, mean/std,
// affine step) is applied inside, so the answers are those of `googlenet
// predict --crops 1`. Both are safe for
// concurrent use: every image goes into one bounded queue, and a pool of
// inference workers (Options.Workers), each with its own graphs and
// activations over the shared weights (inception.Runner), takes up to
// Options.MaxBatch images at a time, waiting at most Options.MaxWait for
// a batch to fill, so images of different callers run in one forward
// pass. A batch gives every image exactly the result it gets alone.
//
// Calls honour their context (a deadline drops queued images unrun); a
// full queue fails at once with an *OverloadError (errors.Is(err,
// ErrOverloaded)); bad images fail with an *InputError; Close stops
// accepting and finishes what is queued.
//
// # Memory
//
// The weights are held once. Each worker keeps the activations of one
// graph per batch size (Options.BatchSizes; 1, 2, 4 and 8 by default),
// allocated at start-up by a warm-up pass:
//
//	resident ≈ baseline + weights + Workers * sum(BatchSizes) * activations per image
//
// For the paper's GoogLeNet at 224x224 in float32 the weights are 53.5 MB
// and the activations, which share buffers by liveness within each graph,
// about 6-9 MB per image (about 400 MB resident with the defaults);
// docs/serving.md has the measured terms.
//
// # HTTP
//
// NewHandler serves POST /v1/classify and /v1/embed (the image as the
// body, or multipart/form-data with several), GET /healthz and GET
// /metrics. Limits bound the body, the pixels (read from the image header
// before decoding, so a 60000x60000 PNG costs nothing), the images per
// request, the time per request and the requests at once. Bad input gets
// a 4xx with a JSON error naming the problem. Serve runs the handler and
// drains it on shutdown. `googlenet serve` is this package behind flags;
// LoadTest is `googlenet loadtest`.
package serve

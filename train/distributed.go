package train

import (
	"encoding/binary"
	"os"
	"strings"
	"time"

	"github.com/pkg/errors"

	"github.com/goinception/googlenet/checkpoint"
	"github.com/goinception/googlenet/data"
	"github.com/goinception/googlenet/interchange/safetensors"
	"github.com/goinception/googlenet/mpi"
)

// This file holds the data-parallel parts of a run that are not the gradient
// averaging itself (train.go): the order in which the ranks read the
// training set, resuming a group from rank 0's checkpoint, and the
// per-rank reporting.

// epochView is the training set as the ranks of a data-parallel run read it
// in one epoch: position p holds dataset index idx[p]. The positions are the
// epoch's shuffled order rearranged so that the loader's contiguous shards
// (data.LoaderOptions Rank and World, DropLast) give each rank, at step t,
// its part of global batch t (see parallelOrder). Its idx is replaced
// between epochs only, when no epoch iterator of its loader is running.
type epochView struct {
	ds  data.Dataset
	idx []int
}

var _ data.Dataset = (*epochView)(nil)

func (v *epochView) Len() int             { return len(v.idx) }
func (v *epochView) Classes() []string    { return v.ds.Classes() }
func (v *epochView) Shape() (c, h, w int) { return v.ds.Shape() }
func (v *epochView) Sample(p int) (data.Sample, error) {
	if p < 0 || p >= len(v.idx) {
		return data.Sample{}, errors.Errorf("train: sample %d of an epoch view of %d", p, len(v.idx))
	}
	return v.ds.Sample(v.idx[p])
}

// parallelOrder rearranges an epoch's order for world ranks with per-rank
// batch b over steps steps: rank r's shard (positions [r*steps*b,
// (r+1)*steps*b), what a loader with Rank r of World world and DropLast
// reads) holds, batch after batch, positions [r*b, (r+1)*b) of every
// global batch order[t*G : (t+1)*G], G = world*b, exactly mpi.Shard's cut.
// A data-parallel run therefore sees, at every step, the examples one
// process with batch G sees at that step of the same order.
func parallelOrder(order []int, steps, b, world int) []int {
	g := world * b
	out := make([]int, 0, steps*g)
	for r := 0; r < world; r++ {
		for t := 0; t < steps; t++ {
			out = append(out, order[t*g+r*b:t*g+(r+1)*b]...)
		}
	}
	return out
}

// epochOrder is the data-parallel side of the training loader: the global
// order and the view the rank's loader reads.
type epochOrder struct {
	order        *data.Loader // World 1, batch world*B: the global order; never decodes
	view         *epochView
	batch, world int
}

// newTrainLoader makes the training loader from opts (BatchSize, Shuffle,
// Seed, DropLast, decoding options; Rank and World are set here). One
// process (world 1) reads the shuffled order of each epoch batch by batch,
// and the returned epochOrder is nil. Ranks of a data-parallel run read it
// through an epochView that the epochOrder sets up before each epoch
// (prepare), so that the group steps exactly like one process with the
// global batch on the same order; only the random augmentation of an image
// differs, because the loader draws it from the image's position in the
// view rather than its dataset index.
func newTrainLoader(ds data.Dataset, opts data.LoaderOptions, rank, world int) (*data.Loader, *epochOrder, error) {
	if world == 1 {
		opts.Rank, opts.World = 0, 1
		l, err := data.NewLoader(ds, opts)
		return l, nil, err
	}
	g := opts
	g.BatchSize, g.Rank, g.World = opts.BatchSize*world, 0, 1
	order, err := data.NewLoader(ds, g)
	if err != nil {
		return nil, nil, errors.Wrapf(err, "global batch of %d ranks x %d", world, opts.BatchSize)
	}
	eo := &epochOrder{order: order, batch: opts.BatchSize, world: world,
		view: &epochView{ds: ds, idx: make([]int, order.Steps()*g.BatchSize)}}
	opts.Shuffle, opts.Rank, opts.World = false, rank, world
	l, err := data.NewLoader(eo.view, opts)
	return l, eo, err
}

// prepare points the view at epoch's order. It must run while no epoch
// iterator of the rank's loader is open. A nil epochOrder does nothing.
func (e *epochOrder) prepare(epoch int) {
	if e == nil {
		return
	}
	steps := len(e.view.idx) / (e.batch * e.world)
	e.view.idx = parallelOrder(e.order.Order(epoch), steps, e.batch, e.world)
}

// Status of the resume decision that rank 0 broadcasts.
const (
	resumeFresh = iota
	resumeFrom
	resumeFailed
)

// findResumeGroup is findResume for a group of ranks: rank 0 alone looks at
// Out (on several machines only its file system need hold the checkpoints)
// and sends its decision to every rank: start afresh, an error (every rank
// returns it, so none waits in a collective for a rank that gave up), or
// the checkpoint file itself, which every rank decodes and checks against
// its own settings.
func (r *run) findResumeGroup() (*checkpoint.Checkpoint, string, error) {
	if r.comm.Size() == 1 {
		return r.findResume()
	}
	status, payload := uint64(resumeFresh), []byte(nil)
	var ck0 *checkpoint.Checkpoint
	var path0 string
	if r.rank0 {
		ck, path, err := r.findResume()
		switch {
		case err != nil:
			status, payload = resumeFailed, []byte(err.Error())
		case ck != nil:
			b, rerr := os.ReadFile(path)
			if rerr != nil {
				status, payload = resumeFailed, []byte(errors.Wrap(rerr, "train: resume").Error())
				break
			}
			status, payload = resumeFrom, append(append([]byte(path), 0), b...)
			ck0, path0 = ck, path
		}
	}
	head := make([]byte, 16)
	binary.LittleEndian.PutUint64(head, status)
	binary.LittleEndian.PutUint64(head[8:], uint64(len(payload)))
	if err := r.comm.BcastBytes(head, 0); err != nil {
		return nil, "", errors.Wrap(err, "train: resume: broadcasting rank 0's decision")
	}
	status = binary.LittleEndian.Uint64(head)
	if n := binary.LittleEndian.Uint64(head[8:]); !r.rank0 {
		payload = make([]byte, n)
	}
	if len(payload) > 0 {
		if err := r.comm.BcastBytes(payload, 0); err != nil {
			return nil, "", errors.Wrap(err, "train: resume: broadcasting the checkpoint")
		}
	}
	switch {
	case status == resumeFresh:
		return nil, "", nil
	case status == resumeFailed:
		if r.rank0 {
			return nil, "", errors.New(string(payload))
		}
		return nil, "", errors.Errorf("%s (on rank 0)", payload)
	case r.rank0:
		return ck0, path0, nil
	}
	i := strings.IndexByte(string(payload), 0)
	if i < 0 {
		return nil, "", errors.New("train: resume: malformed message from rank 0")
	}
	path := string(payload[:i])
	f, err := safetensors.Parse(payload[i+1:])
	if err != nil {
		return nil, "", errors.Wrapf(err, "train: resume: %s from rank 0", path)
	}
	ck, err := checkpoint.Decode(f)
	if err != nil {
		return nil, "", errors.Wrapf(err, "train: resume: %s from rank 0", path)
	}
	if ck.Solver == nil {
		return nil, "", errors.Errorf("train: resume: %s has no solver state", path)
	}
	if err := r.cfg.checkResumable(ck, path); err != nil {
		return nil, "", err
	}
	return ck, path, nil
}

// commStats is the time spent averaging gradients so far (zero with one
// rank).
func (r *run) commStats() mpi.CommStats {
	if r.buckets == nil {
		return mpi.CommStats{}
	}
	return r.buckets.Stats()
}

// commPerStep is the mean all-reduce time per step since the stats were at
// since.
func commPerStep(now, since mpi.CommStats) time.Duration {
	if n := now.Steps - since.Steps; n > 0 {
		return (now.Time - since.Time) / time.Duration(n)
	}
	return 0
}

// rankReporter is the Reporter of a rank other than 0 in a data-parallel
// run: it passes on Start, Step and Logf (per-rank progress and events) and
// drops Evaluating and EpochEnd, which rank 0 reports for the group.
type rankReporter struct{ Reporter }

func (rankReporter) Evaluating(int)   {}
func (rankReporter) EpochEnd(Metrics) {}

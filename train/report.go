package train

import (
	"time"

	"github.com/goinception/googlenet/inception"
)

// Reporter receives a run's progress. Its methods are called from the
// goroutine that called Run, so they may be slow but should not block.
// Embed Nop to implement only some of them. In a data-parallel run, rank 0's
// Reporter gets everything; the other ranks' get Start, Step and Logf only
// (their own progress and events), not Evaluating and EpochEnd, which
// describe the group.
type Reporter interface {
	// Start is called once the run is set up, before the first step.
	Start(info Info)
	// Step is called after every optimizer step.
	Step(p Progress)
	// Evaluating is called when an epoch's training is done and
	// validation starts.
	Evaluating(epoch int)
	// EpochEnd is called with the epoch's metrics, after they are written.
	EpochEnd(m Metrics)
	// Logf reports an event (a checkpoint written, a skipped image).
	Logf(format string, args ...interface{})
}

// Nop is a Reporter that ignores everything.
type Nop struct{}

func (Nop) Start(Info)                  {}
func (Nop) Step(Progress)               {}
func (Nop) Evaluating(int)              {}
func (Nop) EpochEnd(Metrics)            {}
func (Nop) Logf(string, ...interface{}) {}

// Info describes a run as it starts.
type Info struct {
	Variant       string
	Data          string
	Classes       []string
	Params        int64 // trainable parameters
	TrainImages   int
	ValImages     int
	Epochs        int
	StepsPerEpoch int
	Batch         int // per rank
	Ranks         int
	// StartEpoch and StartStep are where the run begins (0, 0 unless it
	// resumes); ResumedFrom names the checkpoint.
	StartEpoch, StartStep int
	ResumedFrom           string
}

// Progress is the state after one step.
type Progress struct {
	Epoch      int // 0-based
	Epochs     int
	Step       int // steps done in this epoch, from 1
	Steps      int // steps per epoch
	GlobalStep int64
	Losses     inception.Losses
	// MeanLoss is the mean main loss over the epoch's steps so far.
	MeanLoss  float64
	LR        float64
	ImgPerSec float64 // since the epoch (or the resumed part of it) started
	Elapsed   time.Duration
	// Comm is the mean time per step this rank spent in the gradient
	// all-reduce in this epoch so far, waiting for slower ranks included
	// (0 with one rank).
	Comm time.Duration
}

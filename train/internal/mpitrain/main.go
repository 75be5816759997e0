//go:build mpi

// Command mpitrain runs train.Run on every rank of an MPI job, for the
// data-parallel tests of package train (mpirun_test.go), which build it
// with -tags mpi and start it with mpirun. Each rank trains the mini
// GoogLeNet with batch norm and dropout off (per-rank batch statistics and
// per-rank dropout masks are a different computation from one process with
// the global batch; see docs/distributed.md) and then writes its final
// weights to -dump/rank-R.safetensors. It prints "rank R ok: ..." or
// "rank R interrupted: ..." and exits 0, or prints "rank R FAIL: ..." and
// aborts the job.
//
// The recipe must stay the one of mpConfig in mpirun_test.go, which trains
// the single-process reference.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/pkg/errors"

	"github.com/goinception/googlenet/graph"
	"github.com/goinception/googlenet/inception"
	"github.com/goinception/googlenet/interchange/safetensors"
	"github.com/goinception/googlenet/mpi"
	"github.com/goinception/googlenet/train"
)

var (
	dataSpec = flag.String("data", "synthetic:classes=4,train=96,val=32,size=28,channels=1,seed=3", "dataset spec")
	batch    = flag.Int("batch", 4, "per-rank batch")
	steps    = flag.Int("steps", 3, "steps per epoch")
	epochs   = flag.Int("epochs", 2, "epochs")
	out      = flag.String("out", "", "output folder (shared by the ranks; rank 0 writes)")
	dump     = flag.String("dump", "", "folder for each rank's final weights")
	resume   = flag.Bool("resume", false, "resume from the newest checkpoint in -out")
	stopRank = flag.Int("stop-rank", -1, "rank that asks to stop ...")
	stopStep = flag.Int64("stop-step", 0, "... after this many steps")
)

func main() {
	flag.Parse()
	if err := mpi.Init(); err != nil {
		fmt.Fprintln(os.Stderr, "mpitrain:", err)
		os.Exit(1)
	}
	c := mpi.World()
	status, err := run(c)
	if err != nil {
		fmt.Printf("rank %d FAIL: %v\n", c.Rank(), err)
		os.Stdout.Sync()
		c.Abort(1)
		os.Exit(1)
	}
	fmt.Printf("rank %d %s\n", c.Rank(), status)
	if err := mpi.Finalize(); err != nil {
		fmt.Fprintln(os.Stderr, "mpitrain:", err)
		os.Exit(1)
	}
}

func run(c mpi.Comm) (string, error) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	m := inception.Mini()
	m.BatchNorm = false
	m.Dropout, m.AuxDropout = 0, 0
	var params []*graph.Param
	cfg := train.Config{
		Model: m, Data: *dataSpec, Epochs: *epochs, Batch: *batch, StepsPerEpoch: *steps,
		LR: 0.05, WeightDecay: 5e-4, Schedule: train.SchedulePoly, WarmupEpochs: 0.5, WarmupStart: 0.1,
		Seed: 7, Out: *out, Resume: *resume, Workers: 1, Comm: c,
		GradHook: func(step int64, ps []*graph.Param) error {
			params = ps
			if c.Rank() == *stopRank && step+1 == *stopStep {
				cancel()
			}
			return nil
		},
	}
	res, err := train.Run(ctx, cfg, nil)
	status := "ok"
	if errors.Is(err, train.ErrInterrupted) {
		status = "interrupted"
	} else if err != nil {
		return "", err
	}
	if *dump != "" {
		var ts []safetensors.Tensor
		for _, p := range params {
			t, err := safetensors.NewF32(p.Name, p.Value.Shape(), p.Value.Data().([]float32))
			if err != nil {
				return "", err
			}
			ts = append(ts, t)
		}
		if err := safetensors.WriteFile(filepath.Join(*dump, fmt.Sprintf("rank-%d.safetensors", c.Rank())), ts, nil); err != nil {
			return "", err
		}
	}
	return fmt.Sprintf("%s: %d steps", status, res.Steps), nil
}

package main

import (
	"bytes"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/goinception/googlenet/mpi"
	"github.com/goinception/googlenet/train"
)

// howToBuildMPI is the advice printed when --distributed meets a binary
// built without the MPI binding.
const howToBuildMPI = `this googlenet was built without MPI; build it with the binding and start it with mpirun:
    apt-get install openmpi-bin libopenmpi-dev pkg-config
    go build -tags mpi -o googlenet ./cmd/googlenet
    mpirun -np 2 ./googlenet train --distributed ...
(see docs/distributed.md)`

// openGroup handles `googlenet train --distributed`. It returns the
// communicator of the MPI job (nil for one process, when the caller must
// not call mpi.Finalize), the writer for progress and errors (stderr, every
// line prefixed with "rank R/N: " when there are several ranks), and an exit
// code when the command must stop at once (0 otherwise):
//   - --distributed with a binary built without the mpi tag: exit 2 with how
//     to build one;
//   - started by an MPI launcher as one of several ranks without
//     --distributed: exit 2 (each rank would train its own model and
//     overwrite the others' checkpoints);
//   - MPI_Init failing: exit 1.
func openGroup(distributed bool, stderr io.Writer) (mpi.Comm, io.Writer, int) {
	l, launched := mpi.Launched()
	switch {
	case distributed && !mpi.Compiled():
		fmt.Fprintf(stderr, "googlenet train: --distributed: %s\n", howToBuildMPI)
		return nil, stderr, 2
	case !distributed && launched && l.Size > 1:
		fmt.Fprintf(stderr, "googlenet train: started as rank %d of %d by %s: add --distributed, or run one process\n", l.Rank, l.Size, l.Launcher)
		return nil, stderr, 2
	case !distributed:
		return nil, stderr, 0
	}
	if err := mpi.Init(); err != nil {
		fmt.Fprintln(stderr, "googlenet train:", err)
		return nil, stderr, 1
	}
	c := mpi.World()
	if c.Size() > 1 {
		stderr = &prefixWriter{w: stderr, prefix: []byte(fmt.Sprintf("rank %d/%d: ", c.Rank(), c.Size()))}
	}
	return c, stderr, 0
}

// prefixWriter writes prefix at the start of every line, so that the
// interleaved output of the ranks (mpirun merges them) says which rank wrote
// what. Partial lines are held until their newline, so two ranks' pieces of
// a line are never mixed within one rank's stream.
type prefixWriter struct {
	mu     sync.Mutex
	w      io.Writer
	prefix []byte
	buf    []byte
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.buf = append(p.buf, b...)
	for {
		i := bytes.IndexByte(p.buf, '\n')
		if i < 0 {
			return len(b), nil
		}
		line := append(append([]byte(nil), p.prefix...), p.buf[:i+1]...)
		p.buf = p.buf[i+1:]
		if _, err := p.w.Write(line); err != nil {
			return len(b), err
		}
	}
}

// rankLogReporter is the progress of a rank other than 0: a log line at
// most every interval and at the end of each epoch, and events. Rank 0
// reports the run, the epochs and the checkpoints.
type rankLogReporter struct {
	train.Nop
	w     io.Writer
	every time.Duration
	last  time.Time
}

func (l *rankLogReporter) Start(train.Info) { l.last = time.Now() }
func (l *rankLogReporter) Step(p train.Progress) {
	if time.Since(l.last) < l.every && p.Step != p.Steps {
		return
	}
	l.last = time.Now()
	fmt.Fprintf(l.w, "epoch %d/%d step %d/%d: loss %.4f (mean %.4f)%s\n",
		p.Epoch+1, p.Epochs, p.Step, p.Steps, p.Losses.Main, p.MeanLoss, commNote(p))
}
func (l *rankLogReporter) Logf(format string, a ...interface{}) {
	fmt.Fprintf(l.w, format+"\n", a...)
}

// commNote describes the communication of a data-parallel step for the
// progress lines ("" with one rank).
func commNote(p train.Progress) string {
	if p.Comm <= 0 {
		return ""
	}
	return fmt.Sprintf(", all-reduce %.1f ms/step", float64(p.Comm)/float64(time.Millisecond))
}

// printComm reports a rank's time in the gradient all-reduces at the end of
// a data-parallel run.
func printComm(w io.Writer, s mpi.CommStats) {
	if s.Steps == 0 {
		return
	}
	calls := s.Calls / s.Steps
	plural := "s"
	if calls == 1 {
		plural = ""
	}
	fmt.Fprintf(w, "gradient all-reduce: %d steps, %.1f ms per step (%.1f MB in %d bucket%s per step)\n",
		s.Steps, float64(s.Time)/float64(time.Millisecond)/float64(s.Steps),
		float64(s.Bytes)/float64(s.Steps)/1e6, calls, plural)
}

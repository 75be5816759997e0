package train

import (
	"context"
	"path/filepath"
	"sync"
	"testing"

	"github.com/pkg/errors"

	"github.com/goinception/googlenet/graph"
	"github.com/goinception/googlenet/mpi"
)

// group is an in-process stand-in for an MPI job: n goroutines ("ranks")
// whose collectives meet in exchange. It lets the data-parallel code paths
// run in CI without MPI (the real binding is tested in package mpi).
type group struct {
	n              int
	mu             sync.Mutex
	cond           *sync.Cond
	slots          []interface{}
	result         interface{}
	arrived, gen   int
	arrived2, gen2 int
}

func newGroup(n int) *group {
	g := &group{n: n, slots: make([]interface{}, n)}
	g.cond = sync.NewCond(&g.mu)
	return g
}

// exchange deposits v for rank, waits for every rank, and returns
// combine(all deposits), computed once.
func (g *group) exchange(rank int, v interface{}, combine func([]interface{}) interface{}) interface{} {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.slots[rank] = v
	g.arrived++
	if gen := g.gen; g.arrived == g.n {
		g.result = combine(g.slots)
		g.arrived = 0
		g.gen++
		g.cond.Broadcast()
	} else {
		for gen == g.gen {
			g.cond.Wait()
		}
	}
	res := g.result
	// Nobody starts the next collective before everyone has its result.
	g.arrived2++
	if gen := g.gen2; g.arrived2 == g.n {
		g.arrived2 = 0
		g.gen2++
		g.cond.Broadcast()
	} else {
		for gen == g.gen2 {
			g.cond.Wait()
		}
	}
	return res
}

type rankComm struct {
	g    *group
	rank int
}

var _ mpi.Comm = rankComm{}

func (c rankComm) Rank() int       { return c.rank }
func (c rankComm) Size() int       { return c.g.n }
func (c rankComm) Available() bool { return true }
func (c rankComm) Abort(int) error { return nil }
func (c rankComm) Barrier() error {
	c.g.exchange(c.rank, nil, func([]interface{}) interface{} { return nil })
	return nil
}
func (c rankComm) BcastFloat32(buf []float32, root int) error {
	res := c.g.exchange(c.rank, append([]float32(nil), buf...), func(s []interface{}) interface{} { return s[root] })
	copy(buf, res.([]float32))
	return nil
}
func (c rankComm) BcastBytes(buf []byte, root int) error {
	res := c.g.exchange(c.rank, append([]byte(nil), buf...), func(s []interface{}) interface{} { return s[root] })
	copy(buf, res.([]byte))
	return nil
}
func (c rankComm) AllreduceSumFloat32(buf []float32) error {
	res := c.g.exchange(c.rank, append([]float32(nil), buf...), func(s []interface{}) interface{} {
		sum := make([]float32, len(buf))
		for _, x := range s {
			for i, v := range x.([]float32) {
				sum[i] += v
			}
		}
		return sum
	})
	copy(buf, res.([]float32))
	return nil
}
func (c rankComm) AllreduceSumFloat64(buf []float64) error {
	res := c.g.exchange(c.rank, append([]float64(nil), buf...), func(s []interface{}) interface{} {
		sum := make([]float64, len(buf))
		for _, x := range s {
			for i, v := range x.([]float64) {
				sum[i] += v
			}
		}
		return sum
	})
	copy(buf, res.([]float64))
	return nil
}
func (c rankComm) Allgather(send, recv []byte) error {
	if len(recv) != c.g.n*len(send) {
		return errors.New("allgather: bad lengths")
	}
	res := c.g.exchange(c.rank, append([]byte(nil), send...), func(s []interface{}) interface{} {
		var all []byte
		for _, x := range s {
			all = append(all, x.([]byte)...)
		}
		return all
	})
	copy(recv, res.([]byte))
	return nil
}

// TestDataParallel trains on two in-process ranks: the ranks must end with
// bit-identical weights (Run also checks this after every epoch), rank 0
// alone writes files, the metrics count both ranks' images, and a stop
// request on rank 1 alone stops both ranks at the same step.
func TestDataParallel(t *testing.T) {
	if testing.Short() {
		t.Skip("two ranks training")
	}
	const ranks = 2
	out := t.TempDir()
	g := newGroup(ranks)
	var (
		wg      sync.WaitGroup
		params  [ranks][]*graph.Param
		results [ranks]*Result
		errs    [ranks]error
	)
	for r := 0; r < ranks; r++ {
		wg.Add(1)
		go func(r int) {
			defer wg.Done()
			cfg := smallConfig(out)
			cfg.Batch = 4
			cfg.Comm = rankComm{g, r}
			cfg.GradHook = func(step int64, ps []*graph.Param) error {
				params[r] = ps
				return nil
			}
			results[r], errs[r] = Run(context.Background(), cfg, nil)
		}(r)
	}
	wg.Wait()
	for r := 0; r < ranks; r++ {
		if errs[r] != nil {
			t.Fatalf("rank %d: %v", r, errs[r])
		}
	}
	for i, p := range params[0] {
		if !sameBits(p.Value.Data().([]float32), params[1][i].Value.Data().([]float32)) {
			t.Errorf("%s differs between the ranks", p.Name)
		}
	}
	if results[0].Checkpoint == "" || results[1].Checkpoint != "" || results[1].Model != "" {
		t.Errorf("files: rank 0 %+v, rank 1 %+v", results[0], results[1])
	}
	ms := results[0].Metrics
	if len(ms) != 2 || ms[0].Images != ranks*4*6 || ms[0].ValImages != 32 {
		t.Errorf("metrics %+v", ms)
	}

	// Rank 1 alone is cancelled after its third step; both stop there.
	out2 := t.TempDir()
	g = newGroup(ranks)
	for r := 0; r < ranks; r++ {
		wg.Add(1)
		go func(r int) {
			defer wg.Done()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			cfg := smallConfig(out2)
			cfg.Batch = 4
			cfg.Comm = rankComm{g, r}
			cfg.GradHook = func(step int64, ps []*graph.Param) error {
				if r == 1 && step == 2 {
					cancel()
				}
				return nil
			}
			results[r], errs[r] = Run(ctx, cfg, nil)
		}(r)
	}
	wg.Wait()
	for r := 0; r < ranks; r++ {
		if !errors.Is(errs[r], ErrInterrupted) || results[r] == nil || results[r].Steps != 3 {
			t.Errorf("rank %d: %v, %+v; want an interruption after 3 steps", r, errs[r], results[r])
		}
	}
	if cks, _ := Checkpoints(out2); len(cks) != 1 || cks[0] != filepath.Join(out2, CheckpointName(3)) {
		t.Errorf("checkpoints %v", cks)
	}
}

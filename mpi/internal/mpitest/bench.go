//go:build mpi

package main

import (
	"flag"
	"fmt"
	"sort"
	"time"

	"github.com/goinception/googlenet/mpi"
)

var (
	benchFloats = flag.Int("floats", 13_378_280, "bench mode: floats per step (default: paper GoogLeNet with aux heads)")
	benchIters  = flag.Int("iters", 10, "bench mode: timed steps")
)

// bench times Buckets.AllreduceMean over -floats floats (in 25 MiB
// buckets), the communication of one data-parallel step, and prints the
// median on rank 0.
func bench(c mpi.Comm) error {
	if c.Size() == 1 {
		fmt.Println("bench: one rank, nothing crosses the network")
		return nil
	}
	// Split as the model would be: many slices of up to 1M floats.
	var names []string
	var lens []int
	for left, i := *benchFloats, 0; left > 0; i++ {
		n := min(left, 1<<20)
		names = append(names, fmt.Sprintf("p%d", i))
		lens = append(lens, n)
		left -= n
	}
	b, err := mpi.NewBuckets(names, lens, 0)
	if err != nil {
		return err
	}
	grads := make([][]float32, len(lens))
	for i, n := range lens {
		grads[i] = make([]float32, n)
	}
	var times []time.Duration
	for it := -2; it < *benchIters; it++ { // two warm-up steps
		if err := c.Barrier(); err != nil {
			return err
		}
		start := time.Now()
		if err := b.AllreduceMean(c, grads); err != nil {
			return err
		}
		if it >= 0 {
			times = append(times, time.Since(start))
		}
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	med := times[len(times)/2]
	bytes := 4 * float64(*benchFloats)
	p := float64(c.Size())
	if c.Rank() == 0 {
		fmt.Printf("bench: %d ranks, %d floats (%.1f MB) in %d buckets: median %v per step (min %v, max %v), %.2f GB/s algorithm bandwidth, %.2f GB/s bus bandwidth (2(p-1)/p x bytes)\n",
			c.Size(), *benchFloats, bytes/1e6, b.Len(), med.Round(time.Microsecond), times[0].Round(time.Microsecond), times[len(times)-1].Round(time.Microsecond),
			bytes/med.Seconds()/1e9, 2*(p-1)/p*bytes/med.Seconds()/1e9)
	}
	return nil
}

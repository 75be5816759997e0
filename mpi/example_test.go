package mpi_test

import (
	"fmt"

	"github.com/goinception/googlenet/mpi"
)

// One data-parallel step as a trainer writes it. The same code runs in one
// process (World is Local: the all-reduce leaves the gradients alone) and,
// between mpi.Init and mpi.Finalize, under mpirun in a binary built with
// -tags mpi (see the package documentation).
func Example() {
	comm := mpi.World()

	// The model's parameters, in build order (normally from the graph).
	names := []string{"conv1/w", "conv1/b", "fc/w", "fc/b"}
	weights := [][]float32{{0.1, 0.2, 0.3, 0.4}, {0}, {1, 2, 3, 4, 5, 6}, {0, 0}}
	grads := [][]float32{{1, 1, 1, 1}, {0.5}, {2, 2, 2, 2, 2, 2}, {1, -1}}
	lens := make([]int, len(weights))
	for i, w := range weights {
		lens[i] = len(w)
	}
	b, err := mpi.NewBuckets(names, lens, 24) // tiny buckets: 6 floats
	if err != nil {
		fmt.Println(err)
		return
	}
	// Once: same model everywhere, rank 0's initial weights everywhere.
	if err := b.CheckLayout(comm); err != nil {
		fmt.Println(err)
		return
	}
	if err := b.Broadcast(comm, 0, weights); err != nil {
		fmt.Println(err)
		return
	}
	// Every step, after the backward pass: average the gradients.
	if err := b.AllreduceMean(comm, grads); err != nil {
		fmt.Println(err)
		return
	}
	// Now and then: every rank must still hold identical weights.
	if err := mpi.CheckIdentical(comm, "weights", weights...); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("rank %d of %d (MPI %v), %d buckets\n", comm.Rank(), comm.Size(), comm.Available(), b.Len())
	for _, n := range names {
		i, _ := b.Bucket(n)
		fmt.Println(n, "in bucket", i)
	}
	fmt.Println("fc/b gradient:", grads[3])
	// Output:
	// rank 0 of 1 (MPI false), 3 buckets
	// conv1/w in bucket 0
	// conv1/b in bucket 0
	// fc/w in bucket 1
	// fc/b in bucket 2
	// fc/b gradient: [1 -1]
}

// Batch-norm running statistics are averaged over the ranks before rank 0
// writes a checkpoint (each rank saw other examples).
func ExampleAverageFloat64s() {
	runningMean := []float64{0.25, -0.5}
	runningVar := []float64{1.5, 0.75}
	if err := mpi.AverageFloat64s(mpi.World(), [][]float64{runningMean, runningVar}); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(runningMean, runningVar)
	// Output:
	// [0.25 -0.5] [1.5 0.75]
}

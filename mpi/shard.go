package mpi

import "github.com/pkg/errors"

// Shard returns this rank's part of one global batch: the global batch
// (example indices, the same on every rank, e.g. the next Size*B entries of
// an epoch's shuffled order drawn with a shared seed) is cut into Size equal
// consecutive parts and rank r gets part r. Taking the parts in rank order
// is what makes Size ranks with batch B step exactly like one process with
// batch Size*B on the same order.
//
// The global batch's length must be a multiple of Size: a trainer drops an
// epoch's incomplete last global batch, so every rank runs the same number
// of steps (a rank with one step more would wait in its all-reduce
// forever). The result aliases global.
func Shard(c Comm, global []int) ([]int, error) {
	p := c.Size()
	if len(global)%p != 0 {
		return nil, errors.Errorf("mpi: Shard: global batch of %d examples does not split over %d ranks", len(global), p)
	}
	b := len(global) / p
	r := c.Rank()
	return global[r*b : (r+1)*b : (r+1)*b], nil
}

// StepsPerEpoch returns the number of full global batches of
// Size*perRank examples in an epoch of n examples (the incomplete rest is
// dropped), or an error when perRank or n is not positive or the epoch has
// no full global batch.
func StepsPerEpoch(c Comm, n, perRank int) (int, error) {
	if n <= 0 || perRank <= 0 {
		return 0, errors.Errorf("mpi: StepsPerEpoch: %d examples, per-rank batch %d", n, perRank)
	}
	g := c.Size() * perRank
	if n < g {
		return 0, errors.Errorf("mpi: StepsPerEpoch: %d examples are fewer than one global batch of %d ranks x %d", n, c.Size(), perRank)
	}
	return n / g, nil
}

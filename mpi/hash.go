package mpi

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"math"
	"strings"

	"github.com/pkg/errors"
)

// HashFloat32s returns a 64-bit FNV-1a hash of the bit patterns of xs, in
// order (lengths included, so moving an element between slices changes the
// hash). Equal hashes on two ranks mean, up to a 2^-64 chance, bit-identical
// values: -0 and +0 differ, and so do NaNs with different payloads.
func HashFloat32s(xs ...[]float32) uint64 {
	h := fnv.New64a()
	var w [8]byte
	for _, x := range xs {
		binary.LittleEndian.PutUint64(w[:], uint64(len(x)))
		h.Write(w[:])
		buf := make([]byte, 4*len(x))
		for i, v := range x {
			binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(v))
		}
		h.Write(buf)
	}
	return h.Sum64()
}

// HashFloat64s is HashFloat32s for float64 values (batch-norm statistics,
// solver state kept in float64).
func HashFloat64s(xs ...[]float64) uint64 {
	h := fnv.New64a()
	var w [8]byte
	for _, x := range xs {
		binary.LittleEndian.PutUint64(w[:], uint64(len(x)))
		h.Write(w[:])
		buf := make([]byte, 8*len(x))
		for i, v := range x {
			binary.LittleEndian.PutUint64(buf[8*i:], math.Float64bits(v))
		}
		h.Write(buf)
	}
	return h.Sum64()
}

// CheckSame gathers h from every rank (one Allgather of 8 bytes) and
// returns, on every rank alike, an error naming the ranks whose h differs
// from rank 0's. Used with HashFloat32s it checks that all ranks hold
// bit-identical weights, which synchronous data-parallel SGD must keep.
func CheckSame(c Comm, h uint64) error {
	send := make([]byte, 8)
	binary.LittleEndian.PutUint64(send, h)
	recv := make([]byte, 8*c.Size())
	if err := c.Allgather(send, recv); err != nil {
		return errors.Wrap(err, "mpi: CheckSame")
	}
	ref := binary.LittleEndian.Uint64(recv)
	var bad []string
	for r := 1; r < c.Size(); r++ {
		if v := binary.LittleEndian.Uint64(recv[8*r:]); v != ref {
			bad = append(bad, fmt.Sprintf("rank %d has %016x", r, v))
		}
	}
	if len(bad) > 0 {
		return errors.Errorf("mpi: ranks differ from rank 0 (%016x): %s", ref, strings.Join(bad, ", "))
	}
	return nil
}

// CheckIdentical returns an error on every rank unless every rank's xs are
// bit-identical to rank 0's (HashFloat32s, then CheckSame). what names the
// values in the error, e.g. "weights after step 100".
func CheckIdentical(c Comm, what string, xs ...[]float32) error {
	return errors.Wrapf(CheckSame(c, HashFloat32s(xs...)), "%s", what)
}

// AverageFloat64s replaces each of xs, on every rank, with its elementwise
// average over all ranks (one AllreduceSumFloat64 of all of xs packed
// together, then division by Size).
//
// It is the batch-norm statistics helper: during training each rank keeps
// its own running means and variances (they see different examples); at
// checkpoint time every rank calls
//
//	var xs [][]float64
//	for _, e := range builder.BNStats() {
//		xs = append(xs, e.Stats.Mean, e.Stats.Var)
//	}
//	err := mpi.AverageFloat64s(comm, xs)
//
// so that all ranks, and the checkpoint rank 0 writes, hold the average.
// The lists must have the same lengths on every rank.
func AverageFloat64s(c Comm, xs [][]float64) error {
	if c.Size() == 1 {
		return nil
	}
	total := 0
	lens := make([]float64, len(xs))
	for i, x := range xs {
		total += len(x)
		lens[i] = float64(len(x))
	}
	// A rank with other lengths would make the all-reduce below hang or
	// sum unrelated values: compare first (one 8-byte all-gather).
	if err := CheckSame(c, HashFloat64s(lens)); err != nil {
		return errors.Wrap(err, "mpi: AverageFloat64s: the ranks' lists have different lengths")
	}
	buf := make([]float64, 0, total)
	for _, x := range xs {
		buf = append(buf, x...)
	}
	if err := c.AllreduceSumFloat64(buf); err != nil {
		return errors.Wrapf(err, "mpi: AverageFloat64s (%d values)", total)
	}
	n := float64(c.Size())
	for _, x := range xs {
		for i := range x {
			x[i] = buf[i] / n
		}
		buf = buf[len(x):]
	}
	return nil
}

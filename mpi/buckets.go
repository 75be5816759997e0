package mpi

import (
	"encoding/binary"
	"hash/fnv"
	"time"

	"github.com/pkg/errors"
)

// DefaultBucketBytes is the bucket capacity used when NewBuckets is given 0:
// 25 MiB, PyTorch DistributedDataParallel's default bucket_cap_mb. GoogLeNet
// with its auxiliary heads (13.4M trainable parameters, 53.5 MB in float32)
// then needs three all-reduce calls per step. The buckets hold one copy of
// all slices whatever the capacity; the capacity only sets the number of
// calls.
const DefaultBucketBytes = 25 << 20

// Buckets packs a fixed list of named float32 slices (a model's gradients
// or weights, in a fixed order) into a few large contiguous buffers, so a
// data-parallel step makes one collective call per bucket instead of one per
// parameter. Slices are never split: each lies whole in one bucket, buckets
// are filled in the given order up to the capacity, and a slice larger than
// the capacity gets a bucket of its own.
//
// The layout depends only on the names, lengths and capacity, so every rank
// that builds the same model gets the same layout; CheckLayout verifies
// that across ranks. A Buckets is not safe for concurrent use.
type Buckets struct {
	names []string
	lens  []int
	segs  []segment   // one per slice
	bufs  [][]float32 // the buckets
	hash  uint64      // of names, lengths and bucket boundaries
	stats CommStats
}

// CommStats accumulates the collectives of a Buckets: how many
// AllreduceMean calls (steps), how many collective calls, how many bytes
// each rank contributed, and the wall time spent inside the collectives
// (waiting for slower ranks included; packing and unpacking excluded).
type CommStats struct {
	Steps, Calls int
	Bytes        int64
	Time         time.Duration
}

// segment places slice i at bufs[bucket][off:off+lens[i]].
type segment struct{ bucket, off int }

// NewBuckets lays out slices with the given names and lengths in buckets of
// at most capBytes bytes (0 means DefaultBucketBytes). Names must be unique
// and non-empty, lengths non-negative, and the two lists of equal length.
func NewBuckets(names []string, lens []int, capBytes int) (*Buckets, error) {
	if len(names) != len(lens) {
		return nil, errors.Errorf("mpi: NewBuckets: %d names but %d lengths", len(names), len(lens))
	}
	if capBytes < 0 {
		return nil, errors.Errorf("mpi: NewBuckets: negative capacity %d", capBytes)
	}
	if capBytes == 0 {
		capBytes = DefaultBucketBytes
	}
	capElems := max(capBytes/4, 1)
	b := &Buckets{names: append([]string(nil), names...), lens: append([]int(nil), lens...)}
	seen := make(map[string]bool, len(names))
	var sizes []int // elements per bucket
	for i, name := range names {
		if name == "" {
			return nil, errors.Errorf("mpi: NewBuckets: slice %d has no name", i)
		}
		if seen[name] {
			return nil, errors.Errorf("mpi: NewBuckets: duplicate name %q", name)
		}
		seen[name] = true
		n := lens[i]
		if n < 0 {
			return nil, errors.Errorf("mpi: NewBuckets: %s has negative length %d", name, n)
		}
		last := len(sizes) - 1
		if last < 0 || (sizes[last] > 0 && sizes[last]+n > capElems) {
			sizes = append(sizes, 0)
			last++
		}
		b.segs = append(b.segs, segment{bucket: last, off: sizes[last]})
		sizes[last] += n
	}
	b.bufs = make([][]float32, len(sizes))
	for i, n := range sizes {
		b.bufs[i] = make([]float32, n)
	}
	h := fnv.New64a()
	var w [8]byte
	for i, name := range b.names {
		h.Write([]byte(name))
		h.Write([]byte{0})
		binary.LittleEndian.PutUint64(w[:], uint64(b.lens[i]))
		h.Write(w[:])
		binary.LittleEndian.PutUint64(w[:], uint64(b.segs[i].bucket))
		h.Write(w[:])
	}
	b.hash = h.Sum64()
	return b, nil
}

// Len returns the number of buckets, i.e. collective calls per operation.
func (b *Buckets) Len() int { return len(b.bufs) }

// Buffers returns the buckets themselves (not copies).
func (b *Buckets) Buffers() [][]float32 { return b.bufs }

// Names returns the slice names in layout order.
func (b *Buckets) Names() []string { return append([]string(nil), b.names...) }

// Bucket returns the bucket index of the named slice.
func (b *Buckets) Bucket(name string) (int, bool) {
	for i, n := range b.names {
		if n == name {
			return b.segs[i].bucket, true
		}
	}
	return 0, false
}

func (b *Buckets) check(op string, xs [][]float32) error {
	if len(xs) != len(b.lens) {
		return errors.Errorf("mpi: Buckets.%s: got %d slices, layout has %d", op, len(xs), len(b.lens))
	}
	for i, x := range xs {
		if len(x) != b.lens[i] {
			return errors.Errorf("mpi: Buckets.%s: %s has %d elements, layout has %d", op, b.names[i], len(x), b.lens[i])
		}
	}
	return nil
}

// Pack copies xs (in layout order, with the layout's lengths) into the
// buckets.
func (b *Buckets) Pack(xs [][]float32) error {
	if err := b.check("Pack", xs); err != nil {
		return err
	}
	for i, x := range xs {
		s := b.segs[i]
		copy(b.bufs[s.bucket][s.off:], x)
	}
	return nil
}

// Unpack copies the buckets back into xs.
func (b *Buckets) Unpack(xs [][]float32) error {
	if err := b.check("Unpack", xs); err != nil {
		return err
	}
	for i, x := range xs {
		s := b.segs[i]
		copy(x, b.bufs[s.bucket][s.off:s.off+len(x)])
	}
	return nil
}

// AllreduceMean replaces each of xs, on every rank, with its average over
// all ranks: pack, one AllreduceSumFloat32 per bucket, division by Size,
// unpack. This is the gradient step of synchronous data-parallel SGD: when
// each rank's loss is the mean over its own B examples, the result is the
// gradient of the mean loss over all Size*B examples (up to float32
// round-off). With one rank xs are left untouched.
func (b *Buckets) AllreduceMean(c Comm, xs [][]float32) error {
	if err := b.check("AllreduceMean", xs); err != nil {
		return err
	}
	if c.Size() == 1 {
		return nil
	}
	if err := b.Pack(xs); err != nil {
		return err
	}
	n := float32(c.Size())
	b.stats.Steps++
	for i, buf := range b.bufs {
		start := time.Now()
		err := c.AllreduceSumFloat32(buf)
		b.stats.Time += time.Since(start)
		b.stats.Calls++
		b.stats.Bytes += 4 * int64(len(buf))
		if err != nil {
			return errors.Wrapf(err, "mpi: all-reduce of bucket %d/%d (%d floats)", i+1, len(b.bufs), len(buf))
		}
		for j := range buf {
			buf[j] /= n
		}
	}
	return b.Unpack(xs)
}

// Stats returns the accumulated statistics of AllreduceMean (with one rank
// nothing is communicated and nothing counted). A trainer reports
// Stats().Time / Steps as the communication time per step.
func (b *Buckets) Stats() CommStats { return b.stats }

// ResetStats sets the statistics to zero (e.g. after warm-up steps).
func (b *Buckets) ResetStats() { b.stats = CommStats{} }

// Broadcast overwrites xs on every rank with root's xs, one BcastFloat32 per
// bucket: how every rank starts from rank 0's initial (or resumed) weights.
func (b *Buckets) Broadcast(c Comm, root int, xs [][]float32) error {
	if err := b.check("Broadcast", xs); err != nil {
		return err
	}
	if err := checkRoot(c, "Broadcast", root); err != nil {
		return err
	}
	if c.Size() == 1 {
		return nil
	}
	if err := b.Pack(xs); err != nil {
		return err
	}
	for i, buf := range b.bufs {
		if err := c.BcastFloat32(buf, root); err != nil {
			return errors.Wrapf(err, "mpi: broadcast of bucket %d/%d (%d floats)", i+1, len(b.bufs), len(buf))
		}
	}
	return b.Unpack(xs)
}

// CheckLayout returns an error on every rank unless all ranks built the same
// layout (same names, lengths and bucket boundaries in the same order). Call
// it once after building the model: ranks with different models would
// otherwise sum unrelated numbers, or hang in a collective of another
// length.
func (b *Buckets) CheckLayout(c Comm) error {
	return errors.Wrap(CheckSame(c, b.hash), "mpi: bucket layouts differ (different models on different ranks?)")
}

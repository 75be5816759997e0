package mpi

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// fakeComm simulates rank Rank of Size ranks whose peers all hold the same
// buffers as this one, scaled: an all-reduce sum multiplies by Size, a
// broadcast from another root fills with BcastValue. It lets the
// single-process build test the arithmetic around the collectives.
type fakeComm struct {
	Local
	rank, size int
	bcastValue float32
	calls      int
}

func (f *fakeComm) Rank() int       { return f.rank }
func (f *fakeComm) Size() int       { return f.size }
func (f *fakeComm) Available() bool { return true }
func (f *fakeComm) AllreduceSumFloat32(buf []float32) error {
	f.calls++
	for i := range buf {
		buf[i] *= float32(f.size)
	}
	return nil
}
func (f *fakeComm) AllreduceSumFloat64(buf []float64) error {
	f.calls++
	for i := range buf {
		buf[i] *= float64(f.size)
	}
	return nil
}
func (f *fakeComm) BcastFloat32(buf []float32, root int) error {
	if err := checkRoot(f, "Bcast", root); err != nil {
		return err
	}
	f.calls++
	if root != f.rank {
		for i := range buf {
			buf[i] = f.bcastValue
		}
	}
	return nil
}
func (f *fakeComm) Allgather(send, recv []byte) error {
	if err := checkGather(f, send, recv); err != nil {
		return err
	}
	for r := 0; r < f.size; r++ {
		copy(recv[r*len(send):], send)
	}
	return nil
}

func randomSlices(rng *rand.Rand, lens []int) [][]float32 {
	xs := make([][]float32, len(lens))
	for k, n := range lens {
		xs[k] = make([]float32, n)
		for i := range xs[k] {
			xs[k][i] = math.Float32frombits(rng.Uint32()) // any bit pattern, NaNs included
		}
	}
	return xs
}

func sameBits(a, b [][]float32) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if len(a[k]) != len(b[k]) {
			return false
		}
		for i := range a[k] {
			if math.Float32bits(a[k][i]) != math.Float32bits(b[k][i]) {
				return false
			}
		}
	}
	return true
}

// TestBucketsPackUnpackExact: Pack then Unpack returns every bit pattern
// unchanged (NaN payloads and -0 included), for capacities from one float
// to everything in one bucket.
func TestBucketsPackUnpackExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	lens := []int{7, 0, 1, 300, 64, 5, 1000, 3}
	names := []string{"a", "b", "c", "d", "e", "f", "g", "h"}
	for _, capBytes := range []int{1, 4, 40, 1200, 4000, 0} {
		b, err := NewBuckets(names, lens, capBytes)
		if err != nil {
			t.Fatal(err)
		}
		in := randomSlices(rng, lens)
		in[2][0] = float32(math.Copysign(0, -1))
		if err := b.Pack(in); err != nil {
			t.Fatal(err)
		}
		out := randomSlices(rng, lens)
		if err := b.Unpack(out); err != nil {
			t.Fatal(err)
		}
		if !sameBits(in, out) {
			t.Errorf("cap %d: Unpack(Pack(x)) != x", capBytes)
		}
		total := 0
		for _, buf := range b.Buffers() {
			total += len(buf)
		}
		if total != 1380 {
			t.Errorf("cap %d: buckets hold %d floats, want 1380", capBytes, total)
		}
	}
}

// TestBucketsLayout pins the greedy, order-preserving layout: slices are
// never split, a bucket is closed when the next slice would overflow it, a
// slice larger than the capacity gets its own bucket.
func TestBucketsLayout(t *testing.T) {
	names := []string{"a", "b", "c", "big", "d", "e"}
	lens := []int{4, 5, 1, 25, 3, 7}
	b, err := NewBuckets(names, lens, 40) // 10 floats
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"a": 0, "b": 0, "c": 0, "big": 1, "d": 2, "e": 2}
	for n, w := range want {
		if got, ok := b.Bucket(n); !ok || got != w {
			t.Errorf("%s in bucket %d (%v), want %d", n, got, ok, w)
		}
	}
	if b.Len() != 3 {
		t.Errorf("Len = %d, want 3", b.Len())
	}
	if _, ok := b.Bucket("zz"); ok {
		t.Error("unknown name found")
	}
	if got := strings.Join(b.Names(), ","); got != "a,b,c,big,d,e" {
		t.Errorf("Names = %s", got)
	}
	// GoogLeNet-sized: 6.6M floats in 25 MiB buckets take two calls.
	g, err := NewBuckets([]string{"convs", "fc"}, []int{5_600_000, 1_025_000}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if g.Len() != 2 {
		t.Errorf("6.6M floats in 25 MiB buckets: %d buckets, want 2", g.Len())
	}
}

func TestNewBucketsErrors(t *testing.T) {
	for _, tc := range []struct {
		names []string
		lens  []int
		cap   int
		want  string
	}{
		{[]string{"a"}, []int{1, 2}, 0, "1 names but 2 lengths"},
		{[]string{"a", "a"}, []int{1, 2}, 0, "duplicate"},
		{[]string{""}, []int{1}, 0, "no name"},
		{[]string{"a"}, []int{-1}, 0, "negative length"},
		{[]string{"a"}, []int{1}, -5, "negative capacity"},
	} {
		_, err := NewBuckets(tc.names, tc.lens, tc.cap)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("NewBuckets(%v, %v, %d) = %v, want error containing %q", tc.names, tc.lens, tc.cap, err, tc.want)
		}
	}
	b, err := NewBuckets([]string{"a", "b"}, []int{2, 3}, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, xs := range [][][]float32{{make([]float32, 2)}, {make([]float32, 2), make([]float32, 4)}} {
		if err := b.Pack(xs); err == nil {
			t.Errorf("Pack accepted %d slices of lengths %d..", len(xs), len(xs[0]))
		}
		if err := b.Unpack(xs); err == nil {
			t.Error("Unpack accepted a wrong layout")
		}
		if err := b.AllreduceMean(Local{}, xs); err == nil {
			t.Error("AllreduceMean accepted a wrong layout")
		}
		if err := b.Broadcast(Local{}, 0, xs); err == nil {
			t.Error("Broadcast accepted a wrong layout")
		}
	}
	if err := b.Broadcast(Local{}, 1, [][]float32{make([]float32, 2), make([]float32, 3)}); err == nil {
		t.Error("Broadcast accepted root 1 of 1 rank")
	}
}

// TestAllreduceMeanSingleProcess: with one rank the gradients are left
// bit-for-bit alone.
func TestAllreduceMeanSingleProcess(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	lens := []int{3, 9, 4}
	b, err := NewBuckets([]string{"x", "y", "z"}, lens, 16)
	if err != nil {
		t.Fatal(err)
	}
	in := randomSlices(rng, lens)
	got := randomSlices(rng, lens)
	for k := range in {
		copy(got[k], in[k])
	}
	if err := b.AllreduceMean(World(), got); err != nil {
		t.Fatal(err)
	}
	if !sameBits(in, got) {
		t.Error("AllreduceMean on one rank changed the values")
	}
	if err := b.Broadcast(World(), 0, got); err != nil || !sameBits(in, got) {
		t.Errorf("Broadcast on one rank: err %v, changed %v", err, !sameBits(in, got))
	}
	if err := b.CheckLayout(World()); err != nil {
		t.Error(err)
	}
}

// TestAllreduceMeanArithmetic: with 4 simulated ranks holding the same
// gradients, the mean is the gradient itself (sum x4, then /4, both exact),
// and there is one all-reduce per bucket.
func TestAllreduceMeanArithmetic(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	lens := []int{10, 10, 10, 1}
	b, err := NewBuckets([]string{"a", "b", "c", "d"}, lens, 80)
	if err != nil {
		t.Fatal(err)
	}
	xs := make([][]float32, len(lens))
	want := make([][]float32, len(lens))
	for k, n := range lens {
		xs[k] = make([]float32, n)
		for i := range xs[k] {
			xs[k][i] = float32(rng.NormFloat64())
		}
		want[k] = append([]float32(nil), xs[k]...)
	}
	f := &fakeComm{size: 4, rank: 2}
	if err := b.AllreduceMean(f, xs); err != nil {
		t.Fatal(err)
	}
	if !sameBits(xs, want) {
		t.Errorf("mean of 4 equal gradients: got %v, want %v", xs, want)
	}
	if f.calls != b.Len() || b.Len() != 2 {
		t.Errorf("%d all-reduce calls for %d buckets, want 2", f.calls, b.Len())
	}
	// Broadcast on a non-root rank receives root's values.
	f = &fakeComm{size: 4, rank: 2, bcastValue: 1.5}
	if err := b.Broadcast(f, 0, xs); err != nil {
		t.Fatal(err)
	}
	for k := range xs {
		for i, v := range xs[k] {
			if v != 1.5 {
				t.Fatalf("after Broadcast %d[%d] = %v, want 1.5", k, i, v)
			}
		}
	}
}

package mpi

import (
	"fmt"
	"testing"
)

func TestShard(t *testing.T) {
	global := []int{9, 8, 7, 6, 5, 4}
	for r, want := range []string{"[9 8]", "[7 6]", "[5 4]"} {
		got, err := Shard(&fakeComm{rank: r, size: 3}, global)
		if err != nil || fmt.Sprint(got) != want {
			t.Errorf("rank %d: %v %v, want %s", r, got, err, want)
		}
		if cap(got) != 2 {
			t.Errorf("rank %d: cap %d lets an append overwrite the next rank's part", r, cap(got))
		}
	}
	if got, err := Shard(Local{}, global); err != nil || len(got) != 6 {
		t.Errorf("one rank: %v %v", got, err)
	}
	if _, err := Shard(&fakeComm{size: 4}, global); err == nil {
		t.Error("6 examples split over 4 ranks")
	}
}

func TestStepsPerEpoch(t *testing.T) {
	c := &fakeComm{size: 4}
	for _, tc := range []struct{ n, b, want int }{{100, 8, 3}, {96, 8, 3}, {32, 8, 1}} {
		if got, err := StepsPerEpoch(c, tc.n, tc.b); err != nil || got != tc.want {
			t.Errorf("StepsPerEpoch(%d, %d) = %d, %v; want %d", tc.n, tc.b, got, err, tc.want)
		}
	}
	for _, tc := range []struct{ n, b int }{{31, 8}, {0, 8}, {100, 0}, {-1, 1}} {
		if _, err := StepsPerEpoch(c, tc.n, tc.b); err == nil {
			t.Errorf("StepsPerEpoch(%d, %d) accepted", tc.n, tc.b)
		}
	}
}

func TestCommStats(t *testing.T) {
	b, err := NewBuckets([]string{"a", "b"}, []int{3, 5}, 16)
	if err != nil {
		t.Fatal(err)
	}
	xs := [][]float32{make([]float32, 3), make([]float32, 5)}
	if err := b.AllreduceMean(Local{}, xs); err != nil {
		t.Fatal(err)
	}
	if s := b.Stats(); s != (CommStats{}) {
		t.Errorf("one rank counted %+v", s)
	}
	f := &fakeComm{size: 2}
	for i := 0; i < 3; i++ {
		if err := b.AllreduceMean(f, xs); err != nil {
			t.Fatal(err)
		}
	}
	if s := b.Stats(); s.Steps != 3 || s.Calls != 6 || s.Bytes != 3*32 || s.Time < 0 {
		t.Errorf("stats %+v, want 3 steps, 6 calls, 96 bytes", s)
	}
	b.ResetStats()
	if b.Stats() != (CommStats{}) {
		t.Error("ResetStats")
	}
}

package train

import (
	"context"
	"testing"

	"github.com/goinception/googlenet/data"
)

func TestParallelOrder(t *testing.T) {
	// 2 ranks x batch 2 over 3 steps of an order of 13: global batches
	// [0..3], [4..7], [8..11]; 12 is dropped.
	order := []int{10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22}
	got := parallelOrder(order, 3, 2, 2)
	want := []int{10, 11, 14, 15, 18, 19 /* rank 1: */, 12, 13, 16, 17, 20, 21}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
}

// TestParallelLoaderOrder: at every step of two epochs, the batches of 3
// ranks with batch 2, concatenated in rank order, are the batch of one
// process with batch 6 (same images, same labels, same order).
func TestParallelLoaderOrder(t *testing.T) {
	sp, err := data.Open(context.Background(), synth)
	if err != nil {
		t.Fatal(err)
	}
	const world, b = 3, 2
	c, _, _ := sp.Train.Shape()
	tr := data.Transform{Size: 28, Channels: c, Means: []float32{0}, Stds: []float32{1}}
	opts := data.LoaderOptions{BatchSize: b, Shuffle: true, Seed: 5, DropLast: true, Workers: 2, Transform: tr}
	single := opts
	single.BatchSize = world * b
	one, eo, err := newTrainLoader(sp.Train, single, 0, 1)
	if err != nil || eo != nil {
		t.Fatalf("one process: %v, %v", eo, err)
	}
	var ranks [world]*data.Loader
	var orders [world]*epochOrder
	for r := range ranks {
		if ranks[r], orders[r], err = newTrainLoader(sp.Train, opts, r, world); err != nil {
			t.Fatal(err)
		}
		if ranks[r].Steps() != one.Steps() {
			t.Fatalf("rank %d: %d steps, one process %d", r, ranks[r].Steps(), one.Steps())
		}
	}
	for epoch := 0; epoch < 2; epoch++ {
		it := one.Epoch(context.Background(), epoch)
		var its [world]*data.EpochIter
		for r := range ranks {
			orders[r].prepare(epoch)
			its[r] = ranks[r].Epoch(context.Background(), epoch)
		}
		for s := 0; s < one.Steps(); s++ {
			want, err := it.Next()
			if err != nil {
				t.Fatal(err)
			}
			var x []float32
			var labels []int
			for r := range its {
				got, err := its[r].Next()
				if err != nil {
					t.Fatal(err)
				}
				x, labels = append(x, got.X...), append(labels, got.Labels...)
			}
			if !sameBits(x, want.X) {
				t.Fatalf("epoch %d step %d: the ranks' images are not the global batch's", epoch, s)
			}
			for i := range labels {
				if labels[i] != want.Labels[i] {
					t.Fatalf("epoch %d step %d: labels %v, want %v", epoch, s, labels, want.Labels)
				}
			}
		}
		it.Close()
		for _, i := range its {
			i.Close()
		}
	}
}

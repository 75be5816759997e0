package cuda

import (
	"sort"
	"time"

	"github.com/pkg/errors"
)

// NetBenchOptions configure BenchNet.
type NetBenchOptions struct {
	Batch  int
	Train  bool // training steps (forward, losses, backward, SGD momentum); else inference (Logits)
	Iters  int  // timed iterations (the median is reported)
	Warmup int  // untimed iterations first
	// Input returns the batch's images and labels; nil draws a fixed
	// pseudo-random batch.
	Input func(n, c, h, w, classes int) ([]float32, []int32)
}

// NetBenchResult is what BenchNet measured: the median time of an
// iteration, images per second from it, and device memory in bytes: the
// pool's peak in use over the timed iterations (PyTorch's
// max_memory_allocated counts the same), its peak held, and the device's
// used memory (total minus free: context and modules included) where the
// executor reports it (0 otherwise).
type NetBenchResult struct {
	Batch                 int
	Train                 bool
	MsPerBatch, ImgPerSec float64
	PeakInUse, PeakHeld   int64
	DeviceUsed            int64
}

// memInfo is an executor that reports the device's memory (GPU).
type memInfo interface {
	MemInfo() (free, total int64, err error)
}

// BenchNet builds src's network on d for o.Batch images and times its
// training step (Step then SGD, lr 0.01, momentum 0.9, weight decay 2e-4)
// or its inference (Logits), synchronising after each iteration.
func BenchNet(d *Device, src Source, o NetBenchOptions) (NetBenchResult, error) {
	res := NetBenchResult{Batch: o.Batch, Train: o.Train}
	if o.Batch <= 0 || o.Iters <= 0 || o.Warmup < 0 {
		return res, errors.Errorf("cuda: BenchNet: batch %d, iters %d, warm-up %d", o.Batch, o.Iters, o.Warmup)
	}
	// Inference builds no gradient or momentum buffers, so its memory is
	// what inference needs (as PyTorch's under no_grad).
	net, err := NewNetWith(d, src, o.Batch, NetOptions{Inference: !o.Train})
	if err != nil {
		return res, err
	}
	defer net.Close()
	in := net.input
	input := o.Input
	if input == nil {
		input = randomBatch
	}
	x, labels := input(o.Batch, in.c, in.h, in.w, net.classes)
	step := func() error {
		if !o.Train {
			_, err := net.Logits(x)
			return err
		}
		if _, err := net.Step(x, labels); err != nil {
			return err
		}
		if err := net.SGD(0.01, 0.9, 2e-4); err != nil {
			return err
		}
		return d.Sync()
	}
	for i := 0; i < o.Warmup; i++ {
		if err := step(); err != nil {
			return res, err
		}
	}
	d.pool.ResetPeak()
	times := make([]float64, o.Iters)
	for i := range times {
		t0 := time.Now()
		if err := step(); err != nil {
			return res, err
		}
		times[i] = time.Since(t0).Seconds()
	}
	sort.Float64s(times)
	med := times[len(times)/2]
	if len(times)%2 == 0 {
		med = (times[len(times)/2-1] + med) / 2
	}
	res.MsPerBatch, res.ImgPerSec = med*1e3, float64(o.Batch)/med
	st := d.pool.Stats()
	res.PeakInUse, res.PeakHeld = st.PeakInUse, st.PeakHeld
	if mi, ok := d.ex.(memInfo); ok {
		free, total, err := mi.MemInfo()
		if err != nil {
			return res, err
		}
		res.DeviceUsed = total - free
	}
	return res, nil
}

// randomBatch is a fixed pseudo-random batch (SplitMix64): values in
// [-1, 1) and labels spread over the classes.
func randomBatch(n, c, h, w, classes int) ([]float32, []int32) {
	x := make([]float32, n*c*h*w)
	s := uint64(1)
	for i := range x {
		s = splitmix64(s)
		x[i] = float32(s>>40)/float32(1<<23) - 1
	}
	labels := make([]int32, n)
	for i := range labels {
		labels[i] = int32((i * 7) % classes)
	}
	return x, labels
}

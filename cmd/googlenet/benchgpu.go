package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/goinception/googlenet/bench"
	"github.com/goinception/googlenet/cuda"
	"github.com/goinception/googlenet/inception"
)

// runBenchGPU is bench --device gpu: the variant's network built as a
// device-resident cuda.Net (cuDNN and cuBLAS where found), timed by
// cuda.BenchNet. A default build says it has no GPU support (exit 2).
func runBenchGPU(c bench.Config, strict, asJSON bool, stdout, stderr io.Writer) int {
	e, err := cuda.NewEngineWith(cuda.EngineOptions{Lib: cuda.LibOptions{StrictFP32: strict, Log: stderr}})
	if errors.Is(err, cuda.ErrNotBuilt) {
		fmt.Fprintln(stderr, "googlenet bench:", noGPUHelp)
		return 2
	}
	if err != nil {
		fmt.Fprintln(stderr, "googlenet bench: --device gpu:", err)
		return 1
	}
	defer e.Close()
	cfg, err := inception.ConfigFor(c.Variant)
	if err != nil {
		fmt.Fprintln(stderr, "googlenet bench:", err)
		return 2
	}
	// The CPU model only provides the weights (and the description).
	cfg.BatchSize, cfg.Seed, cfg.Dtype = 1, c.Seed, tensor.Float32
	if c.InputSize > 0 {
		cfg.InputSize = c.InputSize
	}
	m, err := inception.New(cfg)
	if err != nil {
		fmt.Fprintln(stderr, "googlenet bench:", err)
		return 1
	}
	r, err := cuda.BenchNet(e.Device(), m, cuda.NetBenchOptions{Batch: c.Batch, Train: c.Mode == bench.ModeTrain,
		Iters: c.Iters, Warmup: max(c.Warmup, 0)})
	if err != nil {
		fmt.Fprintf(stderr, "googlenet bench: --device gpu: %+v\n", err)
		return 1
	}
	math := "TF32 allowed"
	if strict {
		math = "strict FP32"
	}
	if asJSON {
		out := struct {
			Variant    string  `json:"variant"`
			Mode       string  `json:"mode"`
			Device     string  `json:"device"`
			Math       string  `json:"math"`
			Batch      int     `json:"batch"`
			InputSize  int     `json:"input_size"`
			Iters      int     `json:"iters"`
			ImgPerS    float64 `json:"img_per_s"`
			MsPerBatch float64 `json:"ms_per_batch"`
			PeakInUse  int64   `json:"peak_in_use_bytes"`
			PeakHeld   int64   `json:"peak_held_bytes"`
			DeviceUsed int64   `json:"device_used_bytes,omitempty"`
		}{c.Variant, c.Mode, e.Device().Executor().Name(), math, r.Batch, cfg.InputSize, c.Iters, r.ImgPerSec, r.MsPerBatch,
			r.PeakInUse, r.PeakHeld, r.DeviceUsed}
		if err := json.NewEncoder(stdout).Encode(out); err != nil {
			fmt.Fprintln(stderr, "googlenet bench:", err)
			return 1
		}
		return 0
	}
	fmt.Fprintf(stdout, "ours:  %s %s batch %d input %d on %s (%s)\n", c.Variant, c.Mode, r.Batch, cfg.InputSize,
		e.Device().Executor().Name(), math)
	fmt.Fprintf(stdout, "       %.2f img/s, %.1f ms/batch (median of %d)\n", r.ImgPerSec, r.MsPerBatch, c.Iters)
	fmt.Fprintf(stdout, "       device memory: peak in use %s (PyTorch's max_memory_allocated counts the same), peak held %s, device used %s\n",
		mib(r.PeakInUse), mib(r.PeakHeld), mib(r.DeviceUsed))
	return 0
}

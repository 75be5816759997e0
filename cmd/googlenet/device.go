package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/pkg/errors"

	"github.com/goinception/googlenet/cpu"
	"github.com/goinception/googlenet/cuda"
	"github.com/goinception/googlenet/ops"
)

// The --device and --engine flags of every command that computes (train,
// eval, predict, infer, bench) are parsed here, once.

// noGPUHelp is the usage error of --device gpu in a default build.
const noGPUHelp = "--device gpu: this googlenet was built without GPU support: go build -tags gpu ./cmd/googlenet, see docs/GPU.md"

// addDeviceFlag adds --device to fs.
func addDeviceFlag(fs *flag.FlagSet) *string {
	return fs.String("device", "cpu", "where to compute: cpu (the --engine) or gpu (an NVIDIA GPU; needs a binary built with -tags gpu, see docs/GPU.md)")
}

// addEngineFlag adds --engine to fs.
func addEngineFlag(fs *flag.FlagSet) *string {
	return fs.String("engine", "cpu", "compute engine with --device cpu: cpu (OpenBLAS or packed Go GEMM) or reference (plain Go)")
}

// strictHelp is the help of --strict-fp32 (bench has its own flag with it).
const strictHelp = "with --device gpu: strict FP32 math in cuDNN and cuBLAS (default: TF32 allowed, as PyTorch)"

// addStrictFlag adds --strict-fp32 to fs.
func addStrictFlag(fs *flag.FlagSet) *bool { return fs.Bool("strict-fp32", false, strictHelp) }

// checkDevice validates a --device value without starting anything: the
// error (a usage error, exit status 2) names an unknown device or a gpu
// request to a binary built without the gpu tag.
func checkDevice(device string) error {
	switch device {
	case "cpu":
		return nil
	case "gpu":
		if !cuda.Built {
			return errors.New(noGPUHelp)
		}
		return nil
	}
	return errors.Errorf("--device %q unknown (want cpu or gpu)", device)
}

// checkEngine validates an --engine value.
func checkEngine(name string) error {
	if name != "cpu" && name != "reference" {
		return errors.Errorf("--engine %q unknown (want cpu or reference)", name)
	}
	return nil
}

// cpuEngine returns the CPU compute engine named name: cpu.New's engine
// (which also takes Gorgonia's own matrix products, cpu.UseWithGorgonia) or
// the reference engine.
func cpuEngine(name string) (ops.Engine, error) {
	if err := checkEngine(name); err != nil {
		return nil, err
	}
	if name == "cpu" {
		cpu.UseWithGorgonia()
		return cpu.New(cpu.Options{}), nil
	}
	return ops.Reference{}, nil
}

// deviceError is useDevice's error: usage says whether the flags were
// wrong (exit status 2) or the device failed to start (exit status 1).
type deviceError struct {
	err   error
	usage bool
}

func (e *deviceError) Error() string { return e.err.Error() }

// exitCode is the exit status for err from useDevice.
func exitCode(err error) int {
	var de *deviceError
	if errors.As(err, &de) && !de.usage {
		return 1
	}
	return 2
}

// useDevice returns the engine of --device device (and, for cpu, of
// --engine engine), to be given to the models the command builds
// (inception.Config.Engine, eval.LoadOptions.Engine), and the function that
// releases it, to be deferred (it reports a failed release on stderr). With
// gpu the cuda Engine takes every convolution and GEMM of package ops;
// Gorgonia's own matrix products (the loss arithmetic) stay on the CPU
// engine.
func useDevice(device, engine string, stderr io.Writer) (eng ops.Engine, release func(), err error) {
	return useDeviceWith(device, engine, false, stderr)
}

// useDeviceWith is useDevice with --strict-fp32 (strict FP32 math in cuDNN
// and cuBLAS; a usage error without --device gpu). The GPU's lines saying
// which path runs each layer shape go to stderr.
func useDeviceWith(device, engine string, strict bool, stderr io.Writer) (eng ops.Engine, release func(), err error) {
	if err := checkDevice(device); err != nil {
		return nil, nil, &deviceError{err: err, usage: true}
	}
	if err := checkEngine(engine); err != nil {
		return nil, nil, &deviceError{err: err, usage: true}
	}
	if strict && device != "gpu" {
		return nil, nil, &deviceError{err: errors.New("--strict-fp32 is for --device gpu"), usage: true}
	}
	e, err := cuda.EngineForWith(device, cuda.EngineOptions{Lib: cuda.LibOptions{StrictFP32: strict, Log: stderr}})
	if err != nil {
		if errors.Is(err, cuda.ErrNotBuilt) {
			return nil, nil, &deviceError{err: errors.New(noGPUHelp), usage: true}
		}
		return nil, nil, &deviceError{err: errors.Wrap(err, "--device gpu")}
	}
	if e == nil {
		ce, err := cpuEngine(engine)
		if err != nil {
			return nil, nil, &deviceError{err: err, usage: true}
		}
		return ce, func() {}, nil
	}
	cpu.UseWithGorgonia()
	return e, func() {
		if err := e.Close(); err != nil {
			// The run's results are out already; a failed release is
			// worth a line, not a failed exit status.
			fmt.Fprintln(stderr, "googlenet: releasing the GPU:", err)
		}
	}, nil
}

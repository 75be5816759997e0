package train

import (
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/goinception/googlenet/graph"
	"github.com/goinception/googlenet/inception"
	"github.com/goinception/googlenet/interchange/safetensors"
)

// The tests in this file run Run on two MPI ranks: they build
// internal/mpitrain with -tags mpi and start it with mpirun (Open MPI). They
// skip when mpirun or the Open MPI development files are missing;
// scripts/mpi-test.sh installs both.

const (
	// mpB, mpSteps and mpEpochs: per-rank batch 4 (global batch 8), 2 epochs
	// of 3 steps, so the K = 6 compared steps cross an epoch end
	// (evaluation, checkpoint, weight check).
	mpB, mpSteps, mpEpochs = 4, 3, 2
	// mpTol bounds |w_2ranks - w_1process| / max(1, |w_1process|) after K
	// steps: float32 round-off only (the ranks average per-rank mean
	// gradients, one process takes the mean over all 8 images: the same
	// sum in another order). Measured: 3.7e-9; the weights move by 1.5e-2.
	mpTol = 1e-6
	// mpMinMove is how far the weights must have moved for the comparison
	// to mean something.
	mpMinMove = 1e-3
	mpTimeout = 2 * time.Minute
)

// mpConfig is the recipe of internal/mpitrain (keep them equal): the mini
// GoogLeNet with batch norm and dropout off, with per-rank batch b.
func mpConfig(out string, b int) Config {
	m := inception.Mini()
	m.BatchNorm = false
	m.Dropout, m.AuxDropout = 0, 0
	return Config{
		Model: m, Data: synth, Epochs: mpEpochs, Batch: b, StepsPerEpoch: mpSteps,
		LR: 0.05, WeightDecay: 5e-4, Schedule: SchedulePoly, WarmupEpochs: 0.5, WarmupStart: 0.1,
		Seed: 7, Out: out, Workers: 1,
	}
}

// buildMPITrain builds internal/mpitrain into dir, or skips the test when
// MPI is not available.
func buildMPITrain(t *testing.T, dir string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("skipping mpirun tests in -short mode")
	}
	if _, err := exec.LookPath("mpirun"); err != nil {
		t.Skip("mpirun not on PATH (install openmpi-bin and libopenmpi-dev, or run scripts/mpi-test.sh)")
	}
	if err := exec.Command("pkg-config", "--exists", "ompi-c").Run(); err != nil {
		t.Skip("pkg-config cannot find ompi-c (install libopenmpi-dev and pkg-config)")
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go command not on PATH")
	}
	bin := filepath.Join(dir, "mpitrain")
	cmd := exec.Command(gobin, "build", "-tags", "mpi", "-o", bin, "./internal/mpitrain")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build -tags mpi ./internal/mpitrain: %v\n%s", err, out)
	}
	return bin
}

// mpirunTrain runs bin on np ranks of this machine and returns its output;
// every rank must print "rank R <want>".
func mpirunTrain(t *testing.T, bin string, np int, want string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), mpTimeout)
	defer cancel()
	a := []string{"-np", strconv.Itoa(np), "--oversubscribe", "--allow-run-as-root", "--bind-to", "none",
		"--mca", "btl", "self,vader", "--mca", "btl_vader_single_copy_mechanism", "none", bin}
	cmd := exec.CommandContext(ctx, "mpirun", append(a, args...)...)
	cmd.WaitDelay = 5 * time.Second
	// One thread per rank: the ranks share this machine's cores.
	cmd.Env = append(os.Environ(), "GOMAXPROCS=1", "OPENBLAS_NUM_THREADS=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("mpirun %v: %v\n%s", args, err, out)
	}
	for r := 0; r < np; r++ {
		if !strings.Contains(string(out), fmt.Sprintf("rank %d %s", r, want)) {
			t.Fatalf("mpirun %v: no %q from rank %d\n%s", args, want, r, out)
		}
	}
	return string(out)
}

// readDump reads a rank's weights written by internal/mpitrain.
func readDump(t *testing.T, path string) map[string][]float32 {
	t.Helper()
	f, err := safetensors.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ws := map[string][]float32{}
	for _, ts := range f.Tensors {
		v, err := ts.Float32s()
		if err != nil {
			t.Fatal(err)
		}
		ws[ts.Name] = v
	}
	return ws
}

// TestMPIDataParallel is the acceptance check of data-parallel training
// through Run and the MPI binding: after K = 6 steps, two ranks with batch 4
// hold bit-identical weights, equal within mpTol to one process with batch
// 8 on the same data order; and a run that one rank stops in the middle of
// an epoch, resumed by the group, ends bit-identical to the uninterrupted
// one.
func TestMPIDataParallel(t *testing.T) {
	dir := t.TempDir()
	bin := buildMPITrain(t, dir)
	dumpA, dumpB := filepath.Join(dir, "dumpA"), filepath.Join(dir, "dumpB")
	for _, d := range []string{dumpA, dumpB} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	args := func(out, dump string, extra ...string) []string {
		return append([]string{"-batch", strconv.Itoa(mpB), "-steps", strconv.Itoa(mpSteps),
			"-epochs", strconv.Itoa(mpEpochs), "-out", out, "-dump", dump}, extra...)
	}
	outA := filepath.Join(dir, "a")
	mpirunTrain(t, bin, 2, fmt.Sprintf("ok: %d steps", mpSteps*mpEpochs), args(outA, dumpA)...)
	w0 := readDump(t, filepath.Join(dumpA, "rank-0.safetensors"))
	w1 := readDump(t, filepath.Join(dumpA, "rank-1.safetensors"))
	if len(w0) == 0 || len(w0) != len(w1) {
		t.Fatalf("rank 0 dumped %d weights, rank 1 %d", len(w0), len(w1))
	}
	for name, v := range w0 {
		if !sameBits(v, w1[name]) {
			t.Errorf("%s differs between the ranks", name)
		}
	}
	if cks, _ := Checkpoints(outA); len(cks) != 2 {
		t.Errorf("checkpoints %v, want one per epoch", cks)
	}

	// One process, batch 8, same seed and so the same order.
	var params []*graph.Param
	var initial map[string][]float32
	cfg := mpConfig(filepath.Join(dir, "one"), 2*mpB)
	cfg.GradHook = func(step int64, ps []*graph.Param) error {
		params = ps
		if step == 0 {
			initial = map[string][]float32{}
			for _, p := range ps {
				initial[p.Name] = append([]float32(nil), p.Value.Data().([]float32)...)
			}
		}
		return nil
	}
	if _, err := Run(context.Background(), cfg, nil); err != nil {
		t.Fatal(err)
	}
	var worst, moved float64
	for _, p := range params {
		want := p.Value.Data().([]float32)
		got, ok := w0[p.Name]
		if !ok || len(got) != len(want) {
			t.Fatalf("%s: %d values from the ranks, %d from one process", p.Name, len(got), len(want))
		}
		for i, x := range want {
			worst = math.Max(worst, math.Abs(float64(got[i])-float64(x))/math.Max(1, math.Abs(float64(x))))
			moved = math.Max(moved, math.Abs(float64(x)-float64(initial[p.Name][i])))
		}
	}
	t.Logf("2 ranks x batch %d vs 1 process x batch %d after %d steps: max relative difference %.3g (tolerance %g); weights moved by up to %.3g",
		mpB, 2*mpB, mpSteps*mpEpochs, worst, mpTol, moved)
	if worst > mpTol {
		t.Errorf("max relative difference %.3g > %g", worst, mpTol)
	}
	if moved < mpMinMove {
		t.Errorf("the weights moved by only %.3g", moved)
	}

	// Rank 1 asks to stop after 4 steps (epoch 2, step 1): both ranks stop
	// there and rank 0 writes the checkpoint; the group resumes from it.
	outB := filepath.Join(dir, "b")
	mpirunTrain(t, bin, 2, "interrupted: 4 steps", args(outB, dumpB, "-stop-rank", "1", "-stop-step", "4")...)
	if cks, _ := Checkpoints(outB); len(cks) == 0 || filepath.Base(cks[len(cks)-1]) != CheckpointName(4) {
		t.Fatalf("checkpoints %v, want the last after step 4", cks)
	}
	mpirunTrain(t, bin, 2, fmt.Sprintf("ok: %d steps", mpSteps*mpEpochs), args(outB, dumpB, "-resume")...)
	for r := 0; r < 2; r++ {
		wr := readDump(t, filepath.Join(dumpB, fmt.Sprintf("rank-%d.safetensors", r)))
		for name, v := range w0 {
			if !sameBits(v, wr[name]) {
				t.Errorf("resumed group, rank %d: %s differs from the uninterrupted run", r, name)
			}
		}
	}
}

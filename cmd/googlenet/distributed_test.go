package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/goinception/googlenet/checkpoint"
	"github.com/goinception/googlenet/mpi"
	"github.com/goinception/googlenet/train"
)

const (
	// failureEndsWithin is how fast a job must end once one of its ranks
	// failed or was killed ("within seconds"; Open MPI takes about 1 s here).
	failureEndsWithin = 8 * time.Second
	distTimeout       = 2 * time.Minute
	distSynth         = "synthetic:classes=3,train=48,val=12,size=28,channels=1"
)

// TestDistributedNeedsMPIBuild: --distributed in a binary built without the
// mpi tag is a usage error that says how to build one.
func TestDistributedNeedsMPIBuild(t *testing.T) {
	if mpi.Compiled() {
		t.Skip("built with -tags mpi")
	}
	code, _, e := runArgs("train", "--distributed", "--data", distSynth, "--out", filepath.Join(t.TempDir(), "o"))
	if code != 2 || !strings.Contains(e, "without MPI") || !strings.Contains(e, "go build -tags mpi") {
		t.Errorf("exit %d, stderr %q", code, e)
	}
}

// buildMPICommand builds this command with -tags mpi into dir, or skips
// the test when MPI is not available.
func buildMPICommand(t *testing.T, dir string) string {
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
	bin := filepath.Join(dir, "googlenet")
	cmd := exec.Command("go", "build", "-tags", "mpi", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build -tags mpi: %v\n%s", err, out)
	}
	return bin
}

// mpirunArgs are the launcher's arguments for ranks on this machine:
// oversubscribed (2 ranks may share one core), shared memory only.
func mpirunArgs(np int) []string {
	return []string{"-np", strconv.Itoa(np), "--oversubscribe", "--allow-run-as-root", "--bind-to", "none",
		"--mca", "btl", "self,vader", "--mca", "btl_vader_single_copy_mechanism", "none",
		"-x", "GOMAXPROCS=1", "-x", "OPENBLAS_NUM_THREADS=1"}
}

// TestDistributed builds the command with -tags mpi once and runs it on two
// ranks with mpirun.
func TestDistributed(t *testing.T) {
	bin := buildMPICommand(t, t.TempDir())
	// Rank 1 computes and all-reduces; rank 0 also writes the checkpoints
	// (it may die inside a Save).
	t.Run("KilledRank1", func(t *testing.T) { testSignalledRank(t, bin, 1, syscall.SIGKILL) })
	t.Run("KilledRank0", func(t *testing.T) { testSignalledRank(t, bin, 0, syscall.SIGKILL) })
	t.Run("StoppedRank1", func(t *testing.T) { testSignalledRank(t, bin, 1, syscall.SIGTERM) })
	t.Run("RankFails", func(t *testing.T) { testRankFails(t, bin) })
}

// testSignalledRank starts `googlenet train --distributed` on two ranks,
// sends sig to rank victim after two epochs, and checks that the job ends
// within seconds, that the checkpoints left load cleanly, and that the
// group resumes from the newest. SIGKILL must end the job with a non-zero
// status; SIGTERM must stop both ranks after the same step, rank 0 writing
// a checkpoint, with status 130.
func testSignalledRank(t *testing.T, bin string, victim int, sig syscall.Signal) {
	out := filepath.Join(t.TempDir(), "run")
	trainArgs := []string{"train", "--distributed", "--data", distSynth, "--out", out, "--batch", "4",
		"--steps", "2", "--progress", "log", "--log-every", "0s"}
	ctx, cancel := context.WithTimeout(context.Background(), distTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "mpirun", append(append(mpirunArgs(2), bin), append(trainArgs, "--epochs", "100000")...)...)
	var log syncBuf
	cmd.Stdout, cmd.Stderr = &log, &log
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	fail := func(format string, a ...interface{}) {
		t.Helper()
		cmd.Process.Kill()
		t.Fatalf(format+"\n%s", append(a, log.String())...)
	}
	// Wait for two checkpoints (two epochs), then kill the victim.
	deadline := time.Now().Add(distTimeout / 2)
	for {
		if cks, _ := train.Checkpoints(out); len(cks) >= 2 {
			break
		}
		if time.Now().After(deadline) {
			fail("no two checkpoints after %v", distTimeout/2)
		}
		time.Sleep(20 * time.Millisecond)
	}
	pids, err := rankPIDs(cmd.Process.Pid, 2)
	if err != nil {
		fail("%v", err)
	}
	if !strings.Contains(log.String(), "rank 1/2: epoch") {
		fail("no progress line of rank 1")
	}
	other := 1 - victim
	start := time.Now()
	before, _ := train.Checkpoints(out)
	if err := syscall.Kill(pids[victim], sig); err != nil {
		fail("kill -%d rank %d (pid %d): %v", int(sig), victim, pids[victim], err)
	}
	select {
	case err = <-done:
	case <-time.After(failureEndsWithin):
		fail("job still running %v after rank %d got %v", failureEndsWithin, victim, sig)
	}
	took := time.Since(start)
	if err == nil || cmd.ProcessState.ExitCode() == 0 {
		t.Fatalf("mpirun exited with %v after rank %d got %v, want a non-zero exit\n%s", err, victim, sig, log.String())
	}
	if sig == syscall.SIGTERM {
		cks, _ := train.Checkpoints(out)
		if code := cmd.ProcessState.ExitCode(); code != exitInterrupted ||
			!strings.Contains(log.String(), "rank 0/2: googlenet train: stopped at") ||
			!strings.Contains(log.String(), "rank 1/2: googlenet train: stopped at") ||
			len(cks) == 0 || len(before) == 0 || cks[len(cks)-1] < before[len(before)-1] {
			// (Stopped right after an epoch's end, the checkpoint of the
			// stop has the name of that epoch's.)
			t.Fatalf("SIGTERM to rank %d: exit %d, checkpoints %v (before %v), want %d, both ranks stopped and a checkpoint at the stop\n%s",
				victim, code, cks, before, exitInterrupted, log.String())
		}
	}
	for syscall.Kill(pids[other], 0) == nil && !zombie(pids[other]) {
		if time.Since(start) > failureEndsWithin {
			t.Fatalf("rank %d (pid %d) alive %v after rank %d was killed", other, pids[other], failureEndsWithin, victim)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("kill -%d rank %d: mpirun exited with code %d after %v", int(sig), victim, cmd.ProcessState.ExitCode(), took.Round(time.Millisecond))

	// Every checkpoint left is whole.
	cks, err := train.Checkpoints(out)
	if err != nil || len(cks) == 0 {
		t.Fatalf("checkpoints after the kill: %v, %v", cks, err)
	}
	var last *checkpoint.Checkpoint
	for _, p := range cks {
		if last, err = checkpoint.Load(p); err != nil {
			t.Fatalf("checkpoint after the kill: %v", err)
		}
	}
	t.Logf("newest checkpoint %s: epoch %d, step %d, loads cleanly", filepath.Base(cks[len(cks)-1]), last.Meta.Epoch, last.Meta.Step)

	// The group resumes from it and trains one epoch more.
	ctx2, cancel2 := context.WithTimeout(context.Background(), distTimeout)
	defer cancel2()
	epochs := strconv.Itoa(last.Meta.Epoch + 1)
	res := exec.CommandContext(ctx2, "mpirun", append(append(mpirunArgs(2), bin), append(trainArgs, "--epochs", epochs, "--resume")...)...)
	b, err := res.CombinedOutput()
	if err != nil || !strings.Contains(string(b), "rank 0/2: resuming from "+cks[len(cks)-1]) ||
		!strings.Contains(string(b), "rank 1/2: epoch "+epochs+"/"+epochs+" step 2/2") {
		t.Fatalf("resume: %v\n%s", err, b)
	}
	if _, err := os.Stat(filepath.Join(out, train.ModelFile)); err != nil {
		t.Error(err)
	}
}

// testRankFails: one rank of two fails (its dataset is missing) before the
// first collective; it reports why, prefixed with its rank, and the job ends
// at once with exit status 1 instead of leaving rank 0 waiting.
func testRankFails(t *testing.T, bin string) {
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), distTimeout)
	defer cancel()
	common := []string{"--out", filepath.Join(dir, "run"), "--batch", "4", "--steps", "2", "--epochs", "1", "--progress", "log"}
	args := append(mpirunArgs(1), bin, "train", "--distributed", "--data", distSynth)
	args = append(append(args, common...), ":")
	args = append(append(args, mpirunArgs(1)[:2]...), bin, "train", "--distributed", "--data", "folder:"+filepath.Join(dir, "missing"))
	args = append(args, common...)
	cmd := exec.CommandContext(ctx, "mpirun", args...)
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	start := time.Now()
	err := cmd.Run()
	took := time.Since(start)
	if err == nil || cmd.ProcessState.ExitCode() != 1 {
		t.Fatalf("mpirun: %v, want exit status 1\n%s", err, log.String())
	}
	if !strings.Contains(log.String(), "rank 1/2: googlenet train: ") || !strings.Contains(log.String(), "dataset") {
		t.Errorf("no error from rank 1:\n%s", log.String())
	}
	if took > distTimeout/2 {
		t.Errorf("job took %v", took)
	}
	t.Logf("rank 1 failed: job ended after %v (start-up included)", took.Round(time.Millisecond))
}

// rankPIDs finds the processes of ranks 0..np-1 among the children of
// mpirun (Open MPI starts a machine's ranks as children of its mpirun), by
// their OMPI_COMM_WORLD_RANK.
func rankPIDs(mpirun, np int) ([]int, error) {
	pids := make([]int, np)
	deadline := time.Now().Add(10 * time.Second)
	for {
		found := 0
		ents, _ := os.ReadDir("/proc")
		for _, e := range ents {
			pid, err := strconv.Atoi(e.Name())
			if err != nil {
				continue
			}
			st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
			if err != nil {
				continue
			}
			s := string(st)
			i := strings.LastIndexByte(s, ')')
			f := strings.Fields(s[i+1:])
			if len(f) < 2 || f[1] != strconv.Itoa(mpirun) {
				continue
			}
			env, _ := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
			for _, kv := range strings.Split(string(env), "\x00") {
				if r, ok := strings.CutPrefix(kv, "OMPI_COMM_WORLD_RANK="); ok {
					if n, err := strconv.Atoi(r); err == nil && n >= 0 && n < np {
						pids[n] = pid
						found++
					}
				}
			}
		}
		if found == np {
			return pids, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("found %d of the %d ranks among mpirun's children", found, np)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// zombie reports whether pid has exited and awaits its parent.
func zombie(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && i+2 < len(s) && s[i+2] == 'Z'
}

package mpi

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
)

// These tests build internal/mpitest with -tags mpi and run it on 2 ranks
// with mpirun (Open MPI). They skip when mpirun or the Open MPI development
// files are missing; scripts/mpi-test.sh installs both.

const (
	// mpiTimeout bounds one mpirun; a hang fails the test instead of CI.
	mpiTimeout = 60 * time.Second
	// failureEndsWithin is how fast the job must end after one rank fails
	// or is killed ("within seconds"; Open MPI takes about 0.5-1.5 s here).
	failureEndsWithin = 8 * time.Second
)

// buildMPITest builds the test program into dir, or skips the test when
// MPI is not available.
func buildMPITest(t *testing.T, dir string) string {
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
	bin := filepath.Join(dir, "mpitest")
	cmd := exec.Command(gobin, "build", "-tags", "mpi", "-o", bin, "./internal/mpitest")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build -tags mpi ./internal/mpitest: %v\n%s", err, out)
	}
	return bin
}

// TestMPI builds internal/mpitest once (into its temporary directory) and
// runs the multi-rank checks as subtests.
func TestMPI(t *testing.T) {
	bin := buildMPITest(t, t.TempDir())
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, string)
	}{
		{"Collectives", testCollectives},
		{"DataParallelSGD", testDataParallelSGD},
		{"GoogLeNetMini", testGoogLeNetMini},
		{"AbortEndsJob", func(t *testing.T, bin string) { failedJob(t, bin, "abort", 3) }},
		{"AbortWhileBlocked", func(t *testing.T, bin string) { failedJob(t, bin, "abortbusy", 5) }},
		{"ExitWithoutFinalizeEndsJob", func(t *testing.T, bin string) { failedJob(t, bin, "exit", 4) }},
		{"ExitZeroWithoutFinalizeEndsJob", func(t *testing.T, bin string) { failedJob(t, bin, "exit", 1, "-code", "0") }},
		{"KilledRankEndsJob", testKilledRankEndsJob},
		{"LauncherMismatch", testLauncherMismatch},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, bin) })
	}
}

// mpirun starts the program on np ranks of this machine. Shared memory
// only (btl self,vader, no single-copy mechanism: containers often forbid
// the ptrace-based one) keeps it fast and independent of the network.
func mpirun(ctx context.Context, bin string, np int, args ...string) *exec.Cmd {
	a := []string{"-np", strconv.Itoa(np), "--oversubscribe", "--allow-run-as-root", "--bind-to", "none",
		"--mca", "btl", "self,vader", "--mca", "btl_vader_single_copy_mechanism", "none", bin, "-np", strconv.Itoa(np)}
	cmd := exec.CommandContext(ctx, "mpirun", append(a, args...)...)
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

func runOK(t *testing.T, bin, mode string, np, wantOK int) string {
	ctx, cancel := context.WithTimeout(context.Background(), mpiTimeout)
	defer cancel()
	out, err := mpirun(ctx, bin, np, "-mode", mode).CombinedOutput()
	if err != nil {
		t.Fatalf("mpirun -mode %s: %v\n%s", mode, err, out)
	}
	if strings.Contains(string(out), "FAIL") {
		t.Fatalf("mpirun -mode %s:\n%s", mode, out)
	}
	for r := 0; r < np; r++ {
		if n := strings.Count(string(out), fmt.Sprintf("rank %d ok:", r)); n != wantOK {
			t.Errorf("rank %d passed %d checks, want %d", r, n, wantOK)
		}
	}
	if t.Failed() {
		t.Logf("output:\n%s", out)
	}
	return string(out)
}

// testCollectives runs barrier, broadcasts, all-reduces, all-gather,
// buckets, weight broadcast and hash checks, and float64 averaging on two
// and three ranks (Open MPI picks other algorithms for a size that is not a
// power of two), each rank checking its results.
func testCollectives(t *testing.T, bin string) {
	for _, np := range []int{2, 3} {
		t.Run(fmt.Sprintf("np%d", np), func(t *testing.T) { runOK(t, bin, "collectives", np, 11) })
	}
}

// testDataParallelSGD: 25 steps of momentum SGD on np ranks with batch 4
// each leave bit-identical weights on all ranks, within 1e-5 (relative) of
// one process with batch 4*np on the same data order.
func testDataParallelSGD(t *testing.T, bin string) {
	for _, np := range []int{2, 3} {
		t.Run(fmt.Sprintf("np%d", np), func(t *testing.T) {
			out := runOK(t, bin, "sgd", np, 2)
			t.Log(strings.TrimSpace(out))
		})
	}
}

// testGoogLeNetMini is the acceptance check on the real model
// (mini variant with auxiliary heads, batch norm and dropout off, inception
// and solvers packages): 3 steps of momentum SGD on np ranks with batch 2
// each leave bit-identical weights, within 1e-6 (relative) of one process
// with batch 2*np on the same data order.
func testGoogLeNetMini(t *testing.T, bin string) {
	for _, np := range []int{2, 3} {
		t.Run(fmt.Sprintf("np%d", np), func(t *testing.T) {
			out := runOK(t, bin, "googlenet", np, 3)
			t.Log(strings.TrimSpace(out))
		})
	}
}

// failedJob runs a job in which one rank fails and checks that mpirun
// exits non-zero within failureEndsWithin of the failure. The cases:
//   - abort: a rank that fails calls Abort(3); the other rank, blocked in
//     an all-reduce, is killed and mpirun exits with 3;
//   - abortbusy: Abort(5) from one goroutine while another of the same rank
//     waits in a barrier that never completes, the other rank computing
//     outside MPI; the job still ends at once with 5;
//   - exit: a rank exits with status 4 without MPI_Finalize (a Go panic or
//     os.Exit): mpirun kills the others and exits with 4; with status 0 it
//     is "exiting improperly" and mpirun exits with 1.
func failedJob(t *testing.T, bin, mode string, wantCode int, args ...string) {
	ctx, cancel := context.WithTimeout(context.Background(), mpiTimeout)
	defer cancel()
	var out bytes.Buffer
	cmd := mpirun(ctx, bin, 2, append([]string{"-mode", mode}, args...)...)
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	took := time.Since(start)
	code := cmd.ProcessState.ExitCode()
	if err == nil || code != wantCode {
		t.Fatalf("mpirun -mode %s: exit code %d (%v), want %d\n%s", mode, code, err, wantCode, out.String())
	}
	if strings.Contains(out.String(), "FAIL") {
		t.Errorf("a surviving rank's collective returned instead of the job ending:\n%s", out.String())
	}
	// The failing rank sleeps 200 ms first.
	if took > failureEndsWithin {
		t.Errorf("job took %v to end after a rank failed, want under %v", took, failureEndsWithin)
	}
	t.Logf("mode %s: job ended with exit code %d after %v", mode, code, took.Round(time.Millisecond))
}

// testKilledRankEndsJob: SIGKILL to rank 1 while both ranks all-reduce
// in a loop ends rank 0 and mpirun (non-zero) within seconds.
func testKilledRankEndsJob(t *testing.T, bin string) {
	ctx, cancel := context.WithTimeout(context.Background(), mpiTimeout)
	defer cancel()
	pidfile := filepath.Join(t.TempDir(), "pid")
	var out bytes.Buffer
	cmd := mpirun(ctx, bin, 2, "-mode", "spin", "-pidfile", pidfile)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	pids := make([]int, 2)
	deadline := time.Now().Add(20 * time.Second)
	for r := range pids {
		for pids[r] == 0 {
			if b, err := os.ReadFile(fmt.Sprintf("%s.%d", pidfile, r)); err == nil {
				pids[r], _ = strconv.Atoi(string(b))
			} else if time.Now().After(deadline) {
				cmd.Process.Kill()
				t.Fatalf("rank %d did not start\n%s", r, out.String())
			} else {
				time.Sleep(20 * time.Millisecond)
			}
		}
	}
	time.Sleep(300 * time.Millisecond) // let them all-reduce for a while
	start := time.Now()
	if err := syscall.Kill(pids[1], syscall.SIGKILL); err != nil {
		t.Fatalf("kill rank 1 (pid %d): %v", pids[1], err)
	}
	var err error
	select {
	case err = <-done:
	case <-time.After(failureEndsWithin):
		cmd.Process.Kill()
		<-done
		t.Fatalf("job still running %v after rank 1 was killed\n%s", failureEndsWithin, out.String())
	}
	took := time.Since(start)
	if err == nil || cmd.ProcessState.ExitCode() == 0 {
		t.Fatalf("mpirun exited with %v after a rank was killed, want a non-zero exit\n%s", err, out.String())
	}
	// Rank 0 must be gone too, if not at once (its daemon kills it) then
	// within the same bound.
	for alive(pids[0]) {
		if time.Since(start) > failureEndsWithin {
			t.Fatalf("rank 0 (pid %d) still alive %v after rank 1 was killed", pids[0], failureEndsWithin)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("rank 1 killed: mpirun exited with code %d after %v, rank 0 gone after %v",
		cmd.ProcessState.ExitCode(), took.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
}

// alive reports whether pid exists and is not a zombie.
func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true // no /proc: trust the signal probe
	}
	// The state follows the parenthesised command name.
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) {
		return s[i+2] != 'Z'
	}
	return true
}

// testLauncherMismatch: a process whose environment says it is rank 0 of
// 2 (PMI variables, as MPICH's mpiexec sets) but whose MPI library sees a
// world of one must refuse to run rather than train alone.
func testLauncherMismatch(t *testing.T, bin string) {
	ctx, cancel := context.WithTimeout(context.Background(), mpiTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-mode", "collectives")
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "OMPI_") && !strings.HasPrefix(kv, "PMI") {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env, "PMI_RANK=0", "PMI_SIZE=2")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "launched as rank 0 of 2 by PMI, but MPI sees a world of 1") {
		t.Errorf("got %v\n%s", err, out)
	}
}

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/goinception/googlenet/train"
)

const trainSynth = "synthetic:classes=3,train=48,val=12,size=28,channels=1"

func TestTrainExitCodes(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		code int
		want string // in stderr
	}{
		{[]string{"train", "--bogus"}, 2, "flag provided but not defined"},
		{[]string{"train", "extra"}, 2, "unexpected arguments"},
		{[]string{"train", "--variant", "huge"}, 2, "unknown variant"},
		{[]string{"train", "--schedule", "cosine"}, 2, `--schedule "cosine" unknown`},
		{[]string{"train", "--epochs", "0"}, 2, "--epochs 0"},
		{[]string{"train", "--lr", "-1"}, 2, "--lr -1"},
		{[]string{"train", "--engine", "tpu"}, 2, `--engine "tpu"`},
		{[]string{"train", "--progress", "fancy"}, 2, `--progress "fancy"`},
		{[]string{"train", "--data", "folder:" + filepath.Join(dir, "missing"), "--out", filepath.Join(dir, "o1"), "--engine", "reference"}, 1, "googlenet train: train: dataset"},
		{[]string{"train", "--data", trainSynth, "--out", filepath.Join(dir, "o2"), "--resume", "--engine", "reference"}, 1, "nothing to resume"},
	} {
		code, _, e := runArgs(c.args...)
		if code != c.code || !strings.Contains(e, c.want) {
			t.Errorf("%q: exit %d (want %d), stderr %q (want %q)", c.args, code, c.code, e, c.want)
		}
		if strings.Contains(e, "goroutine ") || strings.Contains(e, "panic") {
			t.Errorf("%q: stack trace in %q", c.args, e)
		}
	}
	code, o, _ := runArgs("help", "train")
	if code != 0 || !strings.Contains(o, "-resume") || !strings.Contains(o, "-aux-weight") {
		t.Errorf("help train: exit %d, %q", code, o)
	}
}

func TestTrainRun(t *testing.T) {
	out := filepath.Join(t.TempDir(), "run")
	args := []string{"train", "--data", trainSynth, "--out", out, "--epochs", "1", "--batch", "8", "--steps", "3",
		"--engine", "reference", "--progress", "log", "--polyak"}
	code, o, e := runArgs(args...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, e)
	}
	if !strings.Contains(o, "epoch 1: validation top-1") || !strings.Contains(e, "epoch 1/1 step 3/3") || !strings.Contains(e, "(Polyak)") {
		t.Errorf("stdout %q\nstderr %q", o, e)
	}
	for _, f := range []string{train.MetricsFile, train.CurvesFile, train.LabelsFile, train.ModelFile, train.CheckpointName(3)} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
	// The same folder again without --resume is a failure, not a usage error.
	if code, _, e := runArgs(args...); code != 1 || !strings.Contains(e, "already holds checkpoints") {
		t.Errorf("rerun: exit %d, %q", code, e)
	}
}

// TestTrainSignal builds the command, interrupts a run with SIGINT, checks
// the exit status 130 and the checkpoint, and resumes it.
func TestTrainSignal(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command")
	}
	bin := filepath.Join(t.TempDir(), "googlenet")
	if b, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Skipf("cannot build the command: %v\n%s", err, b)
	}
	out := filepath.Join(t.TempDir(), "run")
	args := []string{"train", "--data", "synthetic:classes=3,train=4000,val=12,size=28,channels=1", "--out", out,
		"--epochs", "1", "--batch", "8", "--engine", "reference", "--progress", "log", "--log-every", "0s"}
	cmd := exec.Command(bin, args...)
	var stderr syncBuf
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait for the first steps, then interrupt.
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(stderr.String(), "step 3/") {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("no progress after 60 s: %s", stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != exitInterrupted {
		t.Fatalf("interrupted run: %v (want exit %d)\n%s", err, exitInterrupted, stderr.String())
	}
	if !strings.Contains(stderr.String(), "--resume") {
		t.Errorf("no resume hint: %s", stderr.String())
	}
	cks, err := train.Checkpoints(out)
	if err != nil || len(cks) != 1 {
		t.Fatalf("checkpoints after the interruption: %v, %v", cks, err)
	}
	// Resume for a few steps more: a --steps limit is part of the recipe,
	// so resume with the same flags and stop it again.
	cmd = exec.Command(bin, append(args, "--resume")...)
	stderr.Reset()
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(60 * time.Second)
	for !strings.Contains(stderr.String(), "resuming from") || strings.Count(stderr.String(), " step ") < 2 {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("resume made no progress: %s", stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err == nil {
		t.Fatalf("resumed run was not interrupted: %s", stderr.String())
	}
	cks2, _ := train.Checkpoints(out)
	if len(cks2) != 2 || cks2[1] <= cks[0] {
		t.Errorf("checkpoints after the resumed run: %v", cks2)
	}
}

// syncBuf is a strings.Builder safe for a writer goroutine and a reader.
type syncBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func (s *syncBuf) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b.Reset()
}

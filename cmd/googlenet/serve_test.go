package main

import (
	"bytes"
	"image"
	"image/png"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func TestServeLoadtestMisuse(t *testing.T) {
	ck := testCheckpoint(t, t.TempDir(), 1)
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"serve"}, 2, "--weights is required"},
		{[]string{"serve", "--weights", ck + "," + ck}, 2, "one file"},
		{[]string{"serve", "--weights", ck, "--max-batch", "0"}, 2, "--max-batch 0"},
		{[]string{"serve", "--weights", ck, "--log-format", "xml"}, 2, "--log-format"},
		{[]string{"serve", "--weights", ck, "--addr", "127.0.0.1:99999"}, 1, "invalid port"},
		{[]string{"serve", "--weights", filepath.Join(t.TempDir(), "none")}, 1, "no such file"},
		{[]string{"loadtest", "--url", "http://10.1.2.3:8080"}, 2, "not a loopback address"},
		{[]string{"loadtest", "--clients", "0"}, 2, "--clients"},
	} {
		code, _, e := runArgs(c.args...)
		if code != c.code || !strings.Contains(e, c.want) {
			t.Errorf("%q: exit %d, %q (want %d, %q)", c.args, code, e, c.code, c.want)
		}
		checkNoTrace(t, c.args, e)
	}
}

// TestServeSIGTERM builds the command, serves a mini model, sends
// SIGTERM while requests wait in the batching queue, and checks that
// every one of them is answered and that the exit status is 0.
func TestServeSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command")
	}
	bin := filepath.Join(t.TempDir(), "googlenet")
	if b, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Skipf("cannot build the command: %v\n%s", err, b)
	}
	ck := testCheckpoint(t, t.TempDir(), 1)
	// A long --max-wait keeps the requests queued while the signal arrives.
	cmd := exec.Command(bin, "serve", "--weights", ck, "--addr", "127.0.0.1:0", "--engine", "reference",
		"--max-batch", "64", "--max-wait", "1s", "--workers", "1")
	var stderr syncBuf
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	addrRe := regexp.MustCompile(`msg=serving addr=(127\.0\.0\.1:\d+)`)
	var addr string
	for deadline := time.Now().Add(60 * time.Second); addr == ""; {
		if m := addrRe.FindStringSubmatch(stderr.String()); m != nil {
			addr = m[1]
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not serving after 60 s: %s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	var img bytes.Buffer
	png.Encode(&img, image.NewGray(image.Rect(0, 0, 40, 40)))
	const inflight = 6
	codes := make(chan int, inflight)
	var wg sync.WaitGroup
	for range inflight {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.Post("http://"+addr+"/v1/classify", "image/png", bytes.NewReader(img.Bytes()))
			if err != nil {
				codes <- 0
				return
			}
			resp.Body.Close()
			codes <- resp.StatusCode
		}()
	}
	time.Sleep(300 * time.Millisecond) // the requests are in the queue
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	close(codes)
	for c := range codes {
		if c != http.StatusOK {
			t.Errorf("a request in flight at SIGTERM got %d", c)
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, stderr.String())
	}
	if s := stderr.String(); !strings.Contains(s, "shutting down") || !strings.Contains(s, "images=6") {
		t.Errorf("log %s", s)
	}
	if _, err := http.Get("http://" + addr + "/healthz"); err == nil {
		t.Error("still answering after exit")
	}
}

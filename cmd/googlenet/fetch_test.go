package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestFetchCLI runs `googlenet fetch --url` against a server on 127.0.0.1:
// a good file (path on stdout, cached the second time), a wrong hash and a
// 404 (exit 1, nothing left), and usage errors (exit 2).
func TestFetchCLI(t *testing.T) {
	body := bytes.Repeat([]byte("googlenet "), 10_000)
	s := sha256.Sum256(body)
	sum := hex.EncodeToString(s[:])
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/m/weights.pth" {
			http.NotFound(w, r)
			return
		}
		http.ServeContent(w, r, "weights.pth", time.Time{}, bytes.NewReader(body))
	}))
	defer srv.Close()
	dir := t.TempDir()
	t.Setenv("GOOGLENET_CACHE", filepath.Join(dir, "cache"))
	code, o, e := runArgs("fetch", "--url", srv.URL+"/m/weights.pth", "--sha256", sum, "--progress", "log")
	want := filepath.Join(dir, "cache", "weights.pth")
	if code != 0 || strings.TrimSpace(o) != want || !strings.Contains(e, "downloaded") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, o, e)
	}
	if got, _ := os.ReadFile(want); !bytes.Equal(got, body) {
		t.Fatal("wrong bytes")
	}
	code, _, e = runArgs("fetch", "--url", srv.URL+"/m/weights.pth", "--sha256", sum)
	if code != 0 || !strings.Contains(e, "already there") {
		t.Errorf("second fetch: exit %d: %s", code, e)
	}
	out := filepath.Join(dir, "out")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--url", srv.URL + "/m/weights.pth", "--sha256", strings.Repeat("0", 64)}, "not the published one"},
		{[]string{"--url", srv.URL + "/m/none.pth", "--sha256", sum}, "404"},
	} {
		code, _, e := runArgs(append([]string{"fetch", "--out", out}, c.args...)...)
		if code != 1 || !strings.Contains(e, c.want) {
			t.Errorf("%v: exit %d (want 1), stderr %q", c.args, code, e)
		}
		if es, _ := os.ReadDir(out); len(es) != 0 {
			t.Errorf("%v: left %d files", c.args, len(es))
		}
	}
	for _, args := range [][]string{
		{"fetch"}, {"fetch", "keras"}, {"fetch", "zoo", "caffe"}, {"fetch", "--url", srv.URL + "/m/weights.pth"},
		{"fetch", "--sha256", sum, "zoo"}, {"fetch", "zoo", "--url", "http://x/y", "--sha256", sum}, {"fetch", "zoo", "--progress", "fancy"},
	} {
		if code, _, e := runArgs(args...); code != 2 {
			t.Errorf("%v: exit %d (want 2): %s", args, code, e)
		}
	}
}

package fetch

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// payload is a file of n pseudo-random bytes and its SHA-256.
func payload(n int) ([]byte, string) {
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	s := sha256.Sum256(b)
	return b, hex.EncodeToString(s[:])
}

// server serves body at /w/file.bin with Range support (http.ServeContent);
// the first `cut` requests send Content-Length of the whole file but only
// half the bytes, then drop the connection.
func server(t *testing.T, body []byte, cut int32, ranges bool) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		k := n.Add(1)
		if r.URL.Path != "/w/file.bin" {
			http.NotFound(w, r)
			return
		}
		if k <= cut {
			w.Header().Set("Content-Length", fmt.Sprint(len(body)))
			w.WriteHeader(http.StatusOK)
			w.Write(body[:len(body)/2])
			w.(http.Flusher).Flush()
			panic(http.ErrAbortHandler) // the connection drops mid-transfer
		}
		if !ranges {
			r.Header.Del("Range")
		}
		http.ServeContent(w, r, "file.bin", time.Time{}, bytes.NewReader(body))
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func entries(t *testing.T, dir string) []string {
	t.Helper()
	es, _ := os.ReadDir(dir)
	var s []string
	for _, e := range es {
		s = append(s, e.Name())
	}
	return s
}

func TestFetchGoodThenCached(t *testing.T) {
	body, sum := payload(300_000)
	srv, _ := server(t, body, 0, true)
	src, err := URLSource(srv.URL+"/w/file.bin", sum)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var last int64
	res, err := Fetch(context.Background(), src, Options{Dir: dir, Progress: func(d, total int64) {
		if total != int64(len(body)) {
			t.Errorf("total %d", total)
		}
		last = d
	}})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(res.Path)
	if !bytes.Equal(got, body) || res.Path != filepath.Join(dir, "file.bin") || res.SHA256 != sum || last != int64(len(body)) || res.Cached {
		t.Fatalf("result %+v, %d bytes, progress %d", res, len(got), last)
	}
	res, err = Fetch(context.Background(), src, Options{Dir: dir})
	if err != nil || !res.Cached {
		t.Fatalf("second fetch: %+v %v", res, err)
	}
	if e := entries(t, dir); len(e) != 1 {
		t.Errorf("left %v", e)
	}
}

func TestFetchWrongHashLeavesNothing(t *testing.T) {
	body, _ := payload(10_000)
	srv, _ := server(t, body, 0, true)
	src, _ := URLSource(srv.URL+"/w/file.bin", strings.Repeat("ab", 32))
	dir := t.TempDir()
	_, err := Fetch(context.Background(), src, Options{Dir: dir})
	if err == nil || !strings.Contains(err.Error(), "not the published one") {
		t.Fatalf("error %v", err)
	}
	if e := entries(t, dir); len(e) != 0 {
		t.Errorf("left %v", e)
	}
}

func TestFetchNotFound(t *testing.T) {
	body, sum := payload(10)
	srv, _ := server(t, body, 0, true)
	src, _ := URLSource(srv.URL+"/w/missing.bin", sum)
	dir := t.TempDir()
	_, err := Fetch(context.Background(), src, Options{Dir: dir})
	if err == nil || !strings.Contains(err.Error(), "404") || !strings.Contains(err.Error(), "download it by hand from "+srv.URL+"/w/missing.bin") {
		t.Fatalf("error %v", err)
	}
	if e := entries(t, dir); len(e) != 0 {
		t.Errorf("left %v", e)
	}
}

// TestFetchInterruptedThenResumed: the first transfer drops after half the
// bytes; the partial file stays, the next call asks for the rest with a
// Range request and completes the file.
func TestFetchInterruptedThenResumed(t *testing.T) {
	body, sum := payload(200_000)
	srv, _ := server(t, body, 1, true)
	src, _ := URLSource(srv.URL+"/w/file.bin", sum)
	dir := t.TempDir()
	_, err := Fetch(context.Background(), src, Options{Dir: dir})
	if err == nil || !strings.Contains(err.Error(), "run again to resume") {
		t.Fatalf("first fetch: %v", err)
	}
	st, err := os.Stat(filepath.Join(dir, "file.bin.partial"))
	if err != nil || st.Size() != int64(len(body)/2) {
		t.Fatalf("partial file: %v %v", st, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "file.bin")); !os.IsNotExist(err) {
		t.Fatal("final name exists after an interrupted transfer")
	}
	res, err := Fetch(context.Background(), src, Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(res.Path)
	if !bytes.Equal(got, body) || res.Resumed != int64(len(body)/2) {
		t.Fatalf("resumed %d, %d bytes", res.Resumed, len(got))
	}
	if e := entries(t, dir); len(e) != 1 {
		t.Errorf("left %v", e)
	}
}

// TestFetchTruncatedNoRangeSupport: a server that ignores Range sends the
// whole file again, which replaces the partial one.
func TestFetchTruncatedNoRangeSupport(t *testing.T) {
	body, sum := payload(50_000)
	srv, _ := server(t, body, 1, false)
	src, _ := URLSource(srv.URL+"/w/file.bin", sum)
	dir := t.TempDir()
	if _, err := Fetch(context.Background(), src, Options{Dir: dir}); err == nil {
		t.Fatal("truncated transfer accepted")
	}
	res, err := Fetch(context.Background(), src, Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(res.Path)
	if !bytes.Equal(got, body) || res.Resumed != 0 {
		t.Fatalf("resumed %d, %d bytes", res.Resumed, len(got))
	}
}

func TestFetchNoNetworkAndBadInput(t *testing.T) {
	body, sum := payload(10)
	srv, _ := server(t, body, 0, true)
	url := srv.URL + "/w/file.bin"
	srv.Close() // nothing listens any more
	src, _ := URLSource(url, sum)
	dir := t.TempDir()
	_, err := Fetch(context.Background(), src, Options{Dir: dir})
	if err == nil || !strings.Contains(err.Error(), "download it by hand from "+url) || !strings.Contains(err.Error(), filepath.Join(dir, "file.bin")) {
		t.Fatalf("error %v", err)
	}
	// The file put there by hand is then verified and used.
	if err := os.WriteFile(filepath.Join(dir, "file.bin"), body, 0o644); err != nil {
		t.Fatal(err)
	}
	if res, err := Fetch(context.Background(), src, Options{Dir: dir}); err != nil || !res.Cached {
		t.Fatalf("by hand: %+v %v", res, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "file.bin"), []byte("other"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Fetch(context.Background(), src, Options{Dir: dir}); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("wrong file in place: %v", err)
	}
	for _, c := range [][2]string{{"ftp://x/y", sum}, {"http://x/", sum}, {"http://x/y", "abc"}, {"http://x/y", strings.Repeat("z", 64)}} {
		if _, err := URLSource(c[0], c[1]); err == nil {
			t.Errorf("URLSource(%q, %q) accepted", c[0], c[1])
		}
	}
	if _, err := Lookup("keras"); err == nil {
		t.Error("unknown source accepted")
	}
	for _, s := range Published {
		if err := s.Digest.validate(); err != nil || s.file() == "" {
			t.Errorf("%s: %v", s.Name, err)
		}
	}
}

// TestTorchvisionPrefix: a prefix digest accepts any file whose SHA-256
// starts with it, as torch.hub's check does.
func TestTorchvisionPrefix(t *testing.T) {
	body, sum := payload(1000)
	srv, _ := server(t, body, 0, true)
	src := Source{Name: "p", URL: srv.URL + "/w/file.bin", Digest: Digest{"sha256", sum[:8]}}
	if _, err := Fetch(context.Background(), src, Options{Dir: t.TempDir()}); err != nil {
		t.Fatal(err)
	}
	src.Digest.Hex = "00000000"
	if sum[:8] == "00000000" {
		t.Skip("unlucky payload")
	}
	if _, err := Fetch(context.Background(), src, Options{Dir: t.TempDir()}); err == nil {
		t.Error("wrong prefix accepted")
	}
}

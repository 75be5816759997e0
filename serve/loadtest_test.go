package serve

import (
	"bytes"
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestLoadTest(t *testing.T) {
	c := newMini(t, Options{MaxBatch: 4})
	srv := httptest.NewServer(NewHandler(c, HandlerOptions{}))
	defer srv.Close()
	rep, err := LoadTest(context.Background(), LoadOptions{URL: srv.URL, Clients: 6, Requests: 30, Duration: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Requests != 30 || rep.OK != 30 || rep.Errors != 0 || rep.P50 <= 0 || rep.P99 < rep.P50 || rep.Throughput <= 0 {
		t.Fatalf("report %+v", rep)
	}
	var images int64
	for n, k := range rep.Batches {
		images += int64(n) * k
	}
	if images != 30 {
		t.Errorf("batch histogram %v accounts for %d images, want 30", rep.Batches, images)
	}
	if rep.RSSPeak <= 0 || rep.RSSPeak < rep.RSSFirst || len(rep.RSS) < 2 || rep.CPU <= 0 {
		t.Errorf("RSS first %g peak %g", rep.RSSFirst, rep.RSSPeak)
	}
	var out bytes.Buffer
	if err := rep.WriteText(&out); err != nil || !strings.Contains(out.String(), "30 ok, 0 errors") || !strings.Contains(out.String(), "p99") {
		t.Errorf("report text %q, %v", out.String(), err)
	}
	// Bounded by time: a short duration stops an unbounded run.
	start := time.Now()
	// (A request cut by the end is not counted; under -race on a busy
	// machine none may finish in time, so only the stop is asserted.)
	rep, err = LoadTest(context.Background(), LoadOptions{URL: srv.URL, Path: "embed", Clients: 2, Duration: 500 * time.Millisecond})
	if err != nil || rep.Errors != 0 || time.Since(start) > 20*time.Second {
		t.Fatalf("timed run: %+v, %v after %v", rep, err, time.Since(start))
	}
	for _, u := range []string{"http://10.1.2.3:8080", "http://example.com", "ftp://127.0.0.1/", "127.0.0.1:8080"} {
		if _, err := LoadTest(context.Background(), LoadOptions{URL: u}); !errors.Is(err, ErrBadTarget) {
			t.Errorf("%s: %v, want ErrBadTarget", u, err)
		}
	}
}

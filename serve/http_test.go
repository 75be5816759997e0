package serve

import (
	"bytes"
	"encoding/json"
	"image"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func newServer(t *testing.T, l Limits) (*httptest.Server, *Classifier) {
	t.Helper()
	c := newMini(t, Options{})
	srv := httptest.NewServer(NewHandler(c, HandlerOptions{Limits: l}))
	t.Cleanup(srv.Close)
	return srv, c
}

type answer struct {
	code int
	body map[string]any
}

func post(t *testing.T, url, ct string, body []byte) answer {
	t.Helper()
	resp, err := http.Post(url, ct, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return decodeAnswer(t, resp)
}

func decodeAnswer(t *testing.T, resp *http.Response) answer {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	a := answer{code: resp.StatusCode}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("answer %d with Content-Type %q: %s", resp.StatusCode, ct, b)
	}
	if err := json.Unmarshal(b, &a.body); err != nil {
		t.Fatalf("answer %d is not JSON: %v: %s", resp.StatusCode, err, b)
	}
	return a
}

func encodePNG(t *testing.T, w, h int) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewGray(image.Rect(0, 0, w, h))); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestHTTPClassifyAndEmbed(t *testing.T) {
	srv, _ := newServer(t, Limits{})
	p, j := encodedImages(t)
	a := post(t, srv.URL+"/v1/classify?topk=3", "image/png", p)
	if a.code != 200 {
		t.Fatalf("classify: %d %v", a.code, a.body)
	}
	preds := a.body["predictions"].([]any)
	top := preds[0].(map[string]any)["top"].([]any)
	if len(preds) != 1 || len(top) != 3 || preds[0].(map[string]any)["width"].(float64) != 64 {
		t.Fatalf("classify answer %v", a.body)
	}
	if l := top[0].(map[string]any)["label"].(string); !strings.HasPrefix(l, "class-") {
		t.Errorf("label %q", l)
	}
	// Multipart with two images, the second a JPEG.
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, f := range []struct {
		name string
		data []byte
	}{{"a.png", p}, {"b.jpg", j}} {
		w, _ := mw.CreateFormFile("image", f.name)
		w.Write(f.data)
	}
	mw.Close()
	a = post(t, srv.URL+"/v1/classify", mw.FormDataContentType(), body.Bytes())
	if a.code != 200 || len(a.body["predictions"].([]any)) != 2 ||
		a.body["predictions"].([]any)[1].(map[string]any)["name"] != "b.jpg" {
		t.Fatalf("multipart classify: %d %v", a.code, a.body)
	}
	a = post(t, srv.URL+"/v1/embed", "image/jpeg", j)
	if a.code != 200 || a.body["dim"].(float64) != 112 ||
		len(a.body["embeddings"].([]any)[0].(map[string]any)["features"].([]any)) != 112 {
		t.Fatalf("embed: %d %v", a.code, a.body)
	}
	resp, err := http.Get(srv.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	if a := decodeAnswer(t, resp); a.code != 200 || a.body["status"] != "ok" {
		t.Fatalf("healthz: %d %v", a.code, a.body)
	}
	resp, err = http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	m, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`googlenet_http_requests_total{code="200",path="/v1/classify"} 2`,
		`googlenet_http_request_duration_seconds_bucket{path="/v1/embed",le="+Inf"} 1`,
		`googlenet_batch_size_count`, `googlenet_queue_images 0`, `googlenet_images_total 4`,
		`process_resident_memory_bytes`,
	} {
		if !strings.Contains(string(m), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

// TestHTTPBadInput is the bad-input battery: each request gets its 4xx
// with a JSON error naming the problem, and the server answers a good
// request afterwards.
func TestHTTPBadInput(t *testing.T) {
	srv, c := newServer(t, Limits{MaxBodyBytes: 64 << 10, MaxImages: 2})
	p, j := encodedImages(t)
	big := make([]byte, 65<<10)
	copy(big, p)
	threeParts := func() (string, []byte) {
		var b bytes.Buffer
		mw := multipart.NewWriter(&b)
		for range 3 {
			w, _ := mw.CreateFormFile("image", "x.png")
			w.Write(p)
		}
		mw.Close()
		return mw.FormDataContentType(), b.Bytes()
	}
	mct, mbody := threeParts()
	for _, tc := range []struct {
		name, method, path, ct string
		body                   []byte
		code                   int
		says                   string
	}{
		{"empty body", "POST", "/v1/classify", "image/png", nil, 400, "empty body"},
		{"not an image", "POST", "/v1/classify", "application/octet-stream", []byte("hello, world"), 400, "not a JPEG or PNG"},
		{"truncated PNG", "POST", "/v1/classify", "image/png", p[:len(p)/2], 400, "corrupt or truncated"},
		{"truncated JPEG", "POST", "/v1/classify", "image/jpeg", j[:len(j)/2], 400, "corrupt or truncated"},
		{"60000x60000 PNG", "POST", "/v1/classify", "image/png", pngHeader(60000, 60000), 413, "60000x60000"},
		{"body over the limit", "POST", "/v1/classify", "image/png", big, 413, "too large"},
		{"wrong method", "GET", "/v1/classify", "", nil, 405, "use POST"},
		{"wrong content type", "POST", "/v1/classify", "application/x-www-form-urlencoded", p, 415, "not accepted"},
		{"bad content type", "POST", "/v1/embed", "image/png; x", p, 415, "Content-Type"},
		{"1x1 image", "POST", "/v1/classify", "image/png", encodePNG(t, 1, 1), 422, "smaller than the minimum"},
		{"bad topk", "POST", "/v1/classify?topk=0", "image/png", p, 400, "topk"},
		{"too many images", "POST", "/v1/classify", mct, mbody, 413, "more than 2 images"},
		{"multipart without boundary", "POST", "/v1/classify", "multipart/form-data", p, 400, "boundary"},
		{"unknown path", "POST", "/v2/classify", "image/png", p, 404, "no such endpoint"},
	} {
		req, _ := http.NewRequest(tc.method, srv.URL+tc.path, bytes.NewReader(tc.body))
		if tc.ct != "" {
			req.Header.Set("Content-Type", tc.ct)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		a := decodeAnswer(t, resp)
		msg, _ := a.body["error"].(string)
		if a.code != tc.code || !strings.Contains(msg, tc.says) || a.body["status"].(float64) != float64(tc.code) {
			t.Errorf("%s: %d %q, want %d naming %q", tc.name, a.code, msg, tc.code, tc.says)
		}
		if good := post(t, srv.URL+"/v1/classify", "image/png", p); good.code != 200 {
			t.Fatalf("after %s: a good request got %d %v", tc.name, good.code, good.body)
		}
	}
	if s := c.Stats(); s.Queued != 0 {
		t.Errorf("%d images left queued", s.Queued)
	}
}

func TestHTTPOverloadAndDrain(t *testing.T) {
	c := newMini(t, Options{QueueSize: 1})
	h := NewHandler(c, HandlerOptions{})
	srv := httptest.NewServer(h)
	defer srv.Close()
	p, _ := encodedImages(t)
	c.pending.Store(1)
	a := post(t, srv.URL+"/v1/classify", "image/png", p)
	if a.code != 503 || !strings.Contains(a.body["error"].(string), "overloaded") {
		t.Fatalf("full queue: %d %v", a.code, a.body)
	}
	c.pending.Store(0)
	h.Drain()
	resp, err := http.Get(srv.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	if a := decodeAnswer(t, resp); a.code != 503 || a.body["status"] != "draining" {
		t.Fatalf("healthz while draining: %d %v", a.code, a.body)
	}
	if a := post(t, srv.URL+"/v1/classify", "image/png", p); a.code != 200 {
		t.Fatalf("draining server refused a request: %d", a.code)
	}
}

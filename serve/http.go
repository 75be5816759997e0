package serve

import (
	"context"
	"encoding/json"
	"fmt"
	"image"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/pkg/errors"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/goinception/googlenet/eval"
)

// Limits bound what one request may ask of the server. The zero value is
// the default of each field.
type Limits struct {
	// MaxBodyBytes is the largest request body (0: 32 MiB); larger ones
	// get 413.
	MaxBodyBytes int64
	// MaxPixels is the largest image, width*height, checked from its
	// header before decoding (0: 1<<26, about 67 megapixels); larger ones
	// get 413.
	MaxPixels int64
	// MaxImages is the most images in one multipart request (0: 32).
	MaxImages int
	// Timeout bounds one request from its first byte to its answer,
	// queueing included (0: 30s); past it the answer is 503.
	Timeout time.Duration
	// MaxConcurrent is the most classify and embed requests handled at
	// once (0: 256); more get 503 at once.
	MaxConcurrent int
}

func (l Limits) withDefaults() Limits {
	if l.MaxBodyBytes <= 0 {
		l.MaxBodyBytes = 32 << 20
	}
	if l.MaxPixels <= 0 {
		l.MaxPixels = 1 << 26
	}
	if l.MaxImages <= 0 {
		l.MaxImages = 32
	}
	if l.Timeout <= 0 {
		l.Timeout = 30 * time.Second
	}
	if l.MaxConcurrent <= 0 {
		l.MaxConcurrent = 256
	}
	return l
}

// HandlerOptions configures NewHandler. The zero value is the default.
type HandlerOptions struct {
	Limits Limits
	// Logger receives one record per request (Debug for successes, Warn
	// for refusals, Error for failures); nil discards them.
	Logger *slog.Logger
	// Registry, when set, receives the server's metrics (else a new
	// registry of its own is made); /metrics serves it.
	Registry *prometheus.Registry
}

// Handler is the HTTP API of a Classifier:
//
//	POST /v1/classify   an image as the body (image/jpeg, image/png,
//	                    application/octet-stream) or multipart/form-data
//	                    with one or more images; ?topk=N (default 5)
//	POST /v1/embed      the same inputs; pool5 features
//	GET  /healthz       200 while serving, 503 once draining
//	GET  /metrics       Prometheus text format
//
// Errors are JSON objects {"error": "...", "status": N}: 4xx for bad
// requests, 503 when overloaded, draining or past the timeout.
type Handler struct {
	c        *Classifier
	l        Limits
	log      *slog.Logger
	mux      *http.ServeMux
	slots    chan struct{}
	draining atomic.Bool
	m        *metrics
}

// NewHandler returns the HTTP API over c.
func NewHandler(c *Classifier, o HandlerOptions) *Handler {
	h := &Handler{c: c, l: o.Limits.withDefaults(), log: o.Logger, mux: http.NewServeMux()}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	h.slots = make(chan struct{}, h.l.MaxConcurrent)
	reg := o.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	h.m = newMetrics(reg, c, h)
	h.mux.HandleFunc("/v1/classify", h.api(true))
	h.mux.HandleFunc("/v1/embed", h.api(false))
	h.mux.HandleFunc("/healthz", h.healthz)
	h.mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	h.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		h.fail(w, r, http.StatusNotFound, errors.Errorf("no such endpoint %s (POST /v1/classify, POST /v1/embed, GET /healthz, GET /metrics)", r.URL.Path))
	})
	return h
}

// Drain makes /healthz answer 503 so that a load balancer stops sending;
// requests are still answered. Serve calls it on shutdown.
func (h *Handler) Drain() { h.draining.Store(true) }

// statusWriter records the status code for metrics and logs.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// ServeHTTP routes r, recovering from any panic with a 500.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	sw := &statusWriter{ResponseWriter: w}
	start := time.Now()
	path := r.URL.Path
	switch path {
	case "/v1/classify", "/v1/embed", "/healthz", "/metrics":
	default:
		path = "other"
	}
	defer func() {
		if p := recover(); p != nil {
			h.log.Error("panic", "path", r.URL.Path, "panic", fmt.Sprint(p))
			if sw.status == 0 {
				h.fail(sw, r, http.StatusInternalServerError, errors.New("internal error"))
			}
		}
		h.m.observe(path, sw.status, time.Since(start))
	}()
	h.mux.ServeHTTP(sw, r)
}

func (h *Handler) healthz(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		h.fail(w, r, http.StatusMethodNotAllowed, errors.Errorf("method %s not allowed, use GET", r.Method))
		return
	}
	status, code := "ok", http.StatusOK
	if h.draining.Load() {
		status, code = "draining", http.StatusServiceUnavailable
	}
	writeJSON(w, code, map[string]any{"status": status, "model": h.c.Info()})
}

// classifyResponse is the answer of /v1/classify.
type classifyResponse struct {
	Predictions []imagePrediction `json:"predictions"`
}

type imagePrediction struct {
	Name   string       `json:"name,omitempty"` // multipart file name
	Width  int          `json:"width"`
	Height int          `json:"height"`
	Top    []eval.Class `json:"top"`
}

// embedResponse is the answer of /v1/embed.
type embedResponse struct {
	Dim        int              `json:"dim"`
	Embeddings []imageEmbedding `json:"embeddings"`
}

type imageEmbedding struct {
	Name     string    `json:"name,omitempty"`
	Width    int       `json:"width"`
	Height   int       `json:"height"`
	Features []float32 `json:"features"`
}

// named is one decoded image of a request.
type named struct {
	name string
	img  image.Image
}

func (h *Handler) api(classify bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", "POST")
			h.fail(w, r, http.StatusMethodNotAllowed, errors.Errorf("method %s not allowed, use POST", r.Method))
			return
		}
		select {
		case h.slots <- struct{}{}:
			defer func() { <-h.slots }()
		default:
			w.Header().Set("Retry-After", "1")
			h.fail(w, r, http.StatusServiceUnavailable, errors.Errorf("too many concurrent requests (limit %d)", h.l.MaxConcurrent))
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), h.l.Timeout)
		defer cancel()
		topk := h.c.o.TopK
		if s := r.URL.Query().Get("topk"); s != "" {
			k, err := strconv.Atoi(s)
			if err != nil || k < 1 || k > h.c.cfg.Classes {
				h.fail(w, r, http.StatusBadRequest, errors.Errorf("topk=%q: want a whole number from 1 to %d", s, h.c.cfg.Classes))
				return
			}
			topk = k
		}
		r.Body = http.MaxBytesReader(w, r.Body, h.l.MaxBodyBytes)
		imgs, code, err := h.images(r)
		if err != nil {
			h.fail(w, r, code, err)
			return
		}
		list := make([]image.Image, len(imgs))
		for i, n := range imgs {
			list[i] = n.img
		}
		if classify {
			ps, err := h.c.Classify(ctx, list...)
			if err != nil {
				h.failRun(w, r, err, imgs)
				return
			}
			resp := classifyResponse{Predictions: make([]imagePrediction, len(ps))}
			for i, p := range ps {
				b := imgs[i].img.Bounds()
				resp.Predictions[i] = imagePrediction{Name: imgs[i].name, Width: b.Dx(), Height: b.Dy(), Top: p.TopK(topk)}
			}
			writeJSON(w, http.StatusOK, resp)
		} else {
			es, err := h.c.Embed(ctx, list...)
			if err != nil {
				h.failRun(w, r, err, imgs)
				return
			}
			resp := embedResponse{Dim: h.c.Info().Features, Embeddings: make([]imageEmbedding, len(es))}
			for i, e := range es {
				b := imgs[i].img.Bounds()
				resp.Embeddings[i] = imageEmbedding{Name: imgs[i].name, Width: b.Dx(), Height: b.Dy(), Features: e}
			}
			writeJSON(w, http.StatusOK, resp)
		}
		h.log.Debug("request", "method", r.Method, "path", r.URL.Path, "status", http.StatusOK,
			"images", len(imgs), "remote", r.RemoteAddr)
	}
}

// images reads the request's images, with the HTTP status of a failure.
func (h *Handler) images(r *http.Request) ([]named, int, error) {
	ct := r.Header.Get("Content-Type")
	mt, params, err := mime.ParseMediaType(ct)
	if ct == "" {
		mt, err = "application/octet-stream", nil
	}
	if err != nil {
		return nil, http.StatusUnsupportedMediaType, errors.Errorf("Content-Type %q: %v", ct, err)
	}
	switch mt {
	case "image/jpeg", "image/png", "application/octet-stream":
		img, code, err := h.decode(r.Body)
		if err != nil {
			return nil, code, err
		}
		return []named{{img: img}}, 0, nil
	case "multipart/form-data":
		if params["boundary"] == "" {
			return nil, http.StatusBadRequest, errors.New("multipart/form-data without a boundary")
		}
		mr := multipart.NewReader(r.Body, params["boundary"])
		var out []named
		for {
			p, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, bodyStatus(err, http.StatusBadRequest), errors.Wrap(err, "multipart body")
			}
			if len(out) == h.l.MaxImages {
				return nil, http.StatusRequestEntityTooLarge, errors.Errorf("more than %d images in one request", h.l.MaxImages)
			}
			name := p.FileName()
			if name == "" {
				name = p.FormName()
			}
			img, code, err := h.decode(p)
			if err != nil {
				return nil, code, errors.Wrapf(err, "part %d (%q)", len(out)+1, name)
			}
			out = append(out, named{name: name, img: img})
		}
		if len(out) == 0 {
			return nil, http.StatusBadRequest, errors.New("multipart body without images")
		}
		return out, 0, nil
	}
	return nil, http.StatusUnsupportedMediaType, errors.Errorf("Content-Type %s not accepted: send image/jpeg, image/png, application/octet-stream or multipart/form-data", mt)
}

func (h *Handler) decode(r io.Reader) (image.Image, int, error) {
	img, _, err := DecodeImage(r, h.l.MaxPixels)
	if err == nil {
		err = h.c.Check(img)
		if err != nil {
			var ie *InputError
			errors.As(err, &ie)
			return nil, http.StatusUnprocessableEntity, ie.Err
		}
		return img, 0, nil
	}
	switch {
	case errors.Is(err, ErrTooLarge):
		return nil, http.StatusRequestEntityTooLarge, err
	case errors.Is(err, ErrEmpty), errors.Is(err, ErrNotImage), errors.Is(err, ErrCorrupt), errors.Is(err, errNonPositive):
		return nil, http.StatusBadRequest, err
	}
	return nil, bodyStatus(err, http.StatusBadRequest), errors.Wrap(err, "reading the body")
}

// bodyStatus is 413 when err is the body limit, else code.
func bodyStatus(err error, code int) int {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return http.StatusRequestEntityTooLarge
	}
	return code
}

// failRun answers a failed Classify or Embed.
func (h *Handler) failRun(w http.ResponseWriter, r *http.Request, err error, imgs []named) {
	var ie *InputError
	switch {
	case errors.As(err, &ie):
		h.fail(w, r, http.StatusUnprocessableEntity, errors.Errorf("image %d (%s): %v", ie.Index+1, imgs[ie.Index].name, ie.Err))
	case errors.Is(err, ErrOverloaded), errors.Is(err, ErrClosed):
		w.Header().Set("Retry-After", "1")
		h.fail(w, r, http.StatusServiceUnavailable, err)
	case errors.Is(err, context.DeadlineExceeded):
		w.Header().Set("Retry-After", "1")
		h.fail(w, r, http.StatusServiceUnavailable, errors.Errorf("timed out after %v", h.l.Timeout))
	case errors.Is(err, context.Canceled):
		// The client went away; nobody reads the answer.
		h.fail(w, r, 499, errors.New("request cancelled"))
	default:
		h.fail(w, r, http.StatusInternalServerError, err)
	}
}

// fail writes the JSON error and logs it.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, code int, err error) {
	level := slog.LevelWarn
	if code >= 500 && code != http.StatusServiceUnavailable {
		level = slog.LevelError
	}
	h.log.Log(r.Context(), level, "request failed", "method", r.Method, "path", r.URL.Path,
		"status", code, "error", err.Error(), "remote", r.RemoteAddr)
	writeJSON(w, code, map[string]any{"error": err.Error(), "status": code})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v) // a client that left cannot be told
}

// Serve answers h on ln until ctx is done; then it marks h draining,
// stops accepting connections, lets the requests in flight finish (at
// most grace; 0: 30s) and returns nil. It returns the listener's error if
// serving fails. The classifier stays open: Close it afterwards.
func Serve(ctx context.Context, ln net.Listener, h *Handler, grace time.Duration) error {
	if grace <= 0 {
		grace = 30 * time.Second
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       h.l.Timeout,
		WriteTimeout:      h.l.Timeout + 10*time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(h.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	h.Drain()
	h.log.Info("shutting down: no new connections, finishing requests in flight", "grace", grace.String())
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return errors.Wrap(err, "serve: shutdown")
	}
	<-errc // http.ErrServerClosed
	return nil
}

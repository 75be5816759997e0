package serve

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/jpeg"
	"io"
	"net"
	"net/http"
	"net/url"
	"sort"
	"sync"
	"time"

	"github.com/pkg/errors"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// ErrBadTarget: the load test's URL is malformed, not loopback or names
// an unknown endpoint.
var ErrBadTarget = errors.New("serve: bad load test target")

// LoadOptions configures LoadTest. The zero value is the default except
// for URL.
type LoadOptions struct {
	// URL is the server's base URL; its host must be a loopback address
	// (127.0.0.1, ::1, localhost): the load generator is for measuring
	// one's own machine, never someone else's.
	URL string
	// Path is the endpoint (""/"classify": /v1/classify; "embed": /v1/embed).
	Path string
	// Clients is the number of concurrent clients, each sending one
	// request at a time (0: 8).
	Clients int
	// Duration bounds the run (0: 10s); it also stops after Requests
	// requests when that is positive.
	Duration time.Duration
	Requests int
	// Body is the image sent with every request and ContentType its type
	// (nil: a 256x256 JPEG of a colour gradient, image/jpeg).
	Body        []byte
	ContentType string
	// Progress, when set, is called about once a second with the requests
	// done so far.
	Progress func(done int, elapsed time.Duration)
}

// LoadReport is the result of a load test.
type LoadReport struct {
	Clients  int
	Duration time.Duration // measured wall time
	Requests int           // answered, any status
	OK       int           // 200 answers
	Errors   int           // other answers and transport errors
	// ByStatus counts answers by HTTP status; transport errors are 0.
	ByStatus map[int]int
	// Throughput is OK answers per second.
	Throughput              float64
	P50, P90, P99, Max, Min time.Duration // latency of OK answers
	// Batches is the server's batch-size histogram over the run (forward
	// passes by images carried), from /metrics before and after.
	Batches map[int]int64
	// RSS samples the server's resident memory (process_resident_memory_bytes)
	// about once a second: first, peak and last, in bytes (0 when unknown).
	RSSFirst, RSSPeak, RSSLast float64
	// RSS holds the samples, one about every second.
	RSS []float64
	// CPU is the server's CPU time over the run (process_cpu_seconds_total,
	// all threads), a measure of cost that the machine's other load does
	// not change as much as the throughput.
	CPU time.Duration
}

// CPUPerRequest is the server's CPU time per OK answer.
func (r *LoadReport) CPUPerRequest() time.Duration {
	if r.OK == 0 {
		return 0
	}
	return r.CPU / time.Duration(r.OK)
}

// LoadTest runs clients against a local server until the duration or the
// request count is reached or ctx is done, and reports.
func LoadTest(ctx context.Context, o LoadOptions) (*LoadReport, error) {
	base, err := url.Parse(o.URL)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, wrapf(ErrBadTarget, "URL %q: want http://127.0.0.1:PORT", o.URL)
	}
	if err := checkLoopback(base.Hostname()); err != nil {
		return nil, err
	}
	switch o.Path {
	case "", "classify", "/v1/classify":
		o.Path = "/v1/classify"
	case "embed", "/v1/embed":
		o.Path = "/v1/embed"
	default:
		return nil, wrapf(ErrBadTarget, "endpoint %q: want classify or embed", o.Path)
	}
	if o.Clients <= 0 {
		o.Clients = 8
	}
	if o.Duration <= 0 {
		o.Duration = 10 * time.Second
	}
	if o.Body == nil {
		o.Body, o.ContentType = gradientJPEG(256, 256), "image/jpeg"
	}
	if o.ContentType == "" {
		o.ContentType = "application/octet-stream"
	}
	target := base.JoinPath(o.Path).String()
	metricsURL := base.JoinPath("/metrics").String()
	tr := &http.Transport{MaxIdleConnsPerHost: o.Clients, MaxConnsPerHost: o.Clients}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: time.Minute}

	before, err := scrape(ctx, client, metricsURL)
	if err != nil {
		return nil, errors.Wrap(err, "serve: load test: reading the server's /metrics")
	}
	rep := &LoadReport{Clients: o.Clients, ByStatus: map[int]int{}, RSSFirst: before.rss, RSSPeak: before.rss, RSS: []float64{before.rss}}
	ctx, cancel := context.WithTimeout(ctx, o.Duration)
	defer cancel()

	var (
		mu      sync.Mutex
		lat     []time.Duration
		started int
	)
	next := func() bool {
		mu.Lock()
		defer mu.Unlock()
		if ctx.Err() != nil || (o.Requests > 0 && started >= o.Requests) {
			return false
		}
		started++
		return true
	}
	start := time.Now()
	var wg sync.WaitGroup
	for range o.Clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next() {
				t0 := time.Now()
				code := post1(ctx, client, target, o.ContentType, o.Body)
				d := time.Since(t0)
				if code == -1 { // cut by the end of the run
					return
				}
				mu.Lock()
				rep.Requests++
				rep.ByStatus[code]++
				if code == http.StatusOK {
					rep.OK++
					lat = append(lat, d)
				} else {
					rep.Errors++
				}
				mu.Unlock()
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	sctx := context.WithoutCancel(ctx)
	for running := true; running; {
		select {
		case <-done:
			running = false
		case <-tick.C:
			if m, err := scrape(sctx, client, metricsURL); err == nil {
				rep.RSSPeak = max(rep.RSSPeak, m.rss)
				rep.RSS = append(rep.RSS, m.rss)
			}
			if o.Progress != nil {
				mu.Lock()
				n := rep.Requests
				mu.Unlock()
				o.Progress(n, time.Since(start))
			}
		}
	}
	rep.Duration = time.Since(start)
	after, err := scrape(sctx, client, metricsURL)
	if err != nil {
		return nil, errors.Wrap(err, "serve: load test: reading the server's /metrics")
	}
	rep.RSSLast, rep.RSSPeak = after.rss, max(rep.RSSPeak, after.rss)
	rep.RSS = append(rep.RSS, after.rss)
	rep.CPU = time.Duration((after.cpu - before.cpu) * float64(time.Second))
	rep.Batches = map[int]int64{}
	for n, c := range after.batches {
		if d := c - before.batches[n]; d > 0 {
			rep.Batches[n] = d
		}
	}
	rep.Throughput = float64(rep.OK) / rep.Duration.Seconds()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	if len(lat) > 0 {
		q := func(p float64) time.Duration { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
		rep.P50, rep.P90, rep.P99, rep.Min, rep.Max = q(0.50), q(0.90), q(0.99), lat[0], lat[len(lat)-1]
	}
	return rep, nil
}

// post1 sends one request and returns its status: 0 for a transport
// error, -1 when the run's end cut it.
func post1(ctx context.Context, c *http.Client, target, ct string, body []byte) int {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return 0
	}
	req.Header.Set("Content-Type", ct)
	resp, err := c.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return -1
		}
		return 0
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// checkLoopback refuses hosts that are not this machine's loopback.
func checkLoopback(host string) error {
	ips := []net.IP{net.ParseIP(host)}
	if ips[0] == nil {
		if host != "localhost" {
			return wrapf(ErrBadTarget, "host %q is not a loopback address (use 127.0.0.1)", host)
		}
		addrs, err := net.LookupIP(host)
		if err != nil || len(addrs) == 0 {
			return wrapf(ErrBadTarget, "cannot resolve %q", host)
		}
		ips = addrs
	}
	for _, ip := range ips {
		if !ip.IsLoopback() {
			return wrapf(ErrBadTarget, "host %q is not a loopback address (use 127.0.0.1)", host)
		}
	}
	return nil
}

// serverMetrics are what a load test reads from /metrics.
type serverMetrics struct {
	batches  map[int]int64 // forward passes by batch size
	rss, cpu float64       // bytes, seconds
}

// scrape reads the server's batch-size histogram (cumulative bucket
// counts turned into counts per batch size), resident memory and CPU time.
func scrape(ctx context.Context, c *http.Client, u string) (serverMetrics, error) {
	var m serverMetrics
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return m, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return m, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return m, errors.Errorf("%s: status %d", u, resp.StatusCode)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		return m, err
	}
	m.batches = map[int]int64{}
	if f := fams["googlenet_batch_size"]; f != nil && len(f.GetMetric()) == 1 {
		var prev uint64
		for _, b := range f.GetMetric()[0].GetHistogram().GetBucket() {
			n := int(b.GetUpperBound())
			m.batches[n] = int64(b.GetCumulativeCount() - prev)
			prev = b.GetCumulativeCount()
		}
	}
	if f := fams["process_resident_memory_bytes"]; f != nil && len(f.GetMetric()) == 1 {
		m.rss = f.GetMetric()[0].GetGauge().GetValue()
	}
	if f := fams["process_cpu_seconds_total"]; f != nil && len(f.GetMetric()) == 1 {
		m.cpu = f.GetMetric()[0].GetCounter().GetValue()
	}
	return m, nil
}

// gradientJPEG is the default load-test image.
func gradientJPEG(w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			i := img.PixOffset(x, y)
			img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = uint8(x), uint8(y), uint8(x+y), 255
		}
	}
	var b bytes.Buffer
	_ = jpeg.Encode(&b, img, &jpeg.Options{Quality: 90}) // cannot fail on a bytes.Buffer
	return b.Bytes()
}

// WriteText prints the report for people.
func (r *LoadReport) WriteText(w io.Writer) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "clients %d, %.1fs: %d requests, %d ok, %d errors\n", r.Clients, r.Duration.Seconds(), r.Requests, r.OK, r.Errors)
	if r.Errors > 0 {
		codes := make([]int, 0, len(r.ByStatus))
		for c := range r.ByStatus {
			codes = append(codes, c)
		}
		sort.Ints(codes)
		fmt.Fprint(&b, "status:")
		for _, c := range codes {
			name := fmt.Sprint(c)
			if c == 0 {
				name = "transport-error"
			}
			fmt.Fprintf(&b, " %s=%d", name, r.ByStatus[c])
		}
		fmt.Fprintln(&b)
	}
	fmt.Fprintf(&b, "throughput %.2f req/s\n", r.Throughput)
	ms := func(d time.Duration) float64 { return float64(d) / 1e6 }
	fmt.Fprintf(&b, "latency ms: min %.1f p50 %.1f p90 %.1f p99 %.1f max %.1f\n", ms(r.Min), ms(r.P50), ms(r.P90), ms(r.P99), ms(r.Max))
	sizes := make([]int, 0, len(r.Batches))
	var passes int64
	for n, c := range r.Batches {
		sizes = append(sizes, n)
		passes += c
	}
	sort.Ints(sizes)
	fmt.Fprintf(&b, "batch sizes (forward passes):")
	for _, n := range sizes {
		fmt.Fprintf(&b, " %d:%d", n, r.Batches[n])
	}
	if passes == 0 {
		fmt.Fprint(&b, " none")
	}
	fmt.Fprintln(&b)
	if r.CPU > 0 {
		fmt.Fprintf(&b, "server CPU %.1fs, %.1f ms per request\n", r.CPU.Seconds(), ms(r.CPUPerRequest()))
	}
	if r.RSSPeak > 0 {
		fmt.Fprintf(&b, "server RSS MiB: first %.0f peak %.0f last %.0f; every 10s:", r.RSSFirst/(1<<20), r.RSSPeak/(1<<20), r.RSSLast/(1<<20))
		for i := 0; i < len(r.RSS); i += 10 {
			fmt.Fprintf(&b, " %.0f", r.RSS[i]/(1<<20))
		}
		fmt.Fprintln(&b)
	}
	_, err := w.Write(b.Bytes())
	return err
}

package serve

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are the server's Prometheus metrics.
type metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

// LatencyBuckets are the upper bounds (seconds) of the request latency
// histogram.
var LatencyBuckets = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}

func newMetrics(reg *prometheus.Registry, c *Classifier, h *Handler) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "googlenet_http_requests_total",
			Help: "HTTP requests answered, by path and status code.",
		}, []string{"path", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "googlenet_http_request_duration_seconds",
			Help:    "Time from a request's arrival to its answer, by path.",
			Buckets: LatencyBuckets,
		}, []string{"path"}),
	}
	reg.MustRegister(m.requests, m.latency, &classifierCollector{c: c},
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "googlenet_http_requests_in_flight",
			Help: "Classify and embed requests being handled.",
		}, func() float64 { return float64(len(h.slots)) }),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

func (m *metrics) observe(path string, code int, d time.Duration) {
	if code == 0 {
		code = 200
	}
	m.requests.WithLabelValues(path, strconv.Itoa(code)).Inc()
	m.latency.WithLabelValues(path).Observe(d.Seconds())
}

// classifierCollector exports a Classifier's Stats.
type classifierCollector struct{ c *Classifier }

var (
	descQueue = prometheus.NewDesc("googlenet_queue_images",
		"Images waiting for an inference worker.", nil, nil)
	descRunning = prometheus.NewDesc("googlenet_running_images",
		"Images in forward passes now.", nil, nil)
	descImages = prometheus.NewDesc("googlenet_images_total",
		"Images through the network.", nil, nil)
	descForward = prometheus.NewDesc("googlenet_forward_seconds_total",
		"Time spent in forward passes, all workers together.", nil, nil)
	descBatch = prometheus.NewDesc("googlenet_batch_size",
		"Images per forward pass.", nil, nil)
)

func (cc *classifierCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descQueue, descRunning, descImages, descForward, descBatch} {
		ch <- d
	}
}

func (cc *classifierCollector) Collect(ch chan<- prometheus.Metric) {
	s := cc.c.Stats()
	ch <- prometheus.MustNewConstMetric(descQueue, prometheus.GaugeValue, float64(s.Queued))
	ch <- prometheus.MustNewConstMetric(descRunning, prometheus.GaugeValue, float64(s.Running))
	ch <- prometheus.MustNewConstMetric(descImages, prometheus.CounterValue, float64(s.Images))
	ch <- prometheus.MustNewConstMetric(descForward, prometheus.CounterValue, s.Forwards.Seconds())
	buckets := map[float64]uint64{}
	var count uint64
	var sum float64
	for n := 1; n < len(s.Batches); n++ {
		count += uint64(s.Batches[n])
		sum += float64(n) * float64(s.Batches[n])
		buckets[float64(n)] = count
	}
	ch <- prometheus.MustNewConstHistogram(descBatch, count, sum, buckets)
}

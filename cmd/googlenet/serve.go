package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/goinception/googlenet/data"
	"github.com/goinception/googlenet/eval"
	"github.com/goinception/googlenet/serve"
)

func init() {
	register(command{
		Name:    "serve",
		Summary: "HTTP classification and embedding service (batching, health, Prometheus metrics, limits)",
		Run:     runServe,
	})
}

func runServe(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	wf := addWeightFlags(fs, false)
	addr := fs.String("addr", "127.0.0.1:8080", "listen address (port 0 picks a free one; the log says which)")
	labelsFile := fs.String("labels", "", "class names, one a line (default: the labels stored with the weights, else class numbers)")
	var o serve.Options
	fs.IntVar(&o.Workers, "workers", 0, "inference workers, each with its own activations (0: GOMAXPROCS+1, at most 3)")
	fs.IntVar(&o.MaxBatch, "max-batch", 8, "most images per forward pass")
	batchList := fs.String("batch-sizes", "", "graph batch sizes per worker, comma-separated (default: 1,2,4,... and --max-batch); each costs its activations")
	memLimit := fs.Int64("memory-limit", 0, "Go memory soft limit in bytes (0: the heap after warm-up plus an eighth and 64 MiB; -1: none; GOMEMLIMIT overrides)")
	fs.DurationVar(&o.MaxWait, "max-wait", 2*time.Millisecond, "how long a worker waits to fill a batch (negative: not at all)")
	fs.IntVar(&o.QueueSize, "queue", 256, "most images waiting; beyond, requests get 503")
	fs.IntVar(&o.TopK, "topk", 5, "classes per prediction unless the request says ?topk=")
	fs.IntVar(&o.MinSide, "min-side", 16, "smallest image side accepted, pixels")
	var l serve.Limits
	fs.Int64Var(&l.MaxBodyBytes, "max-body", 32<<20, "largest request body, bytes")
	fs.Int64Var(&l.MaxPixels, "max-pixels", 1<<26, "largest image (width*height), checked in its header before decoding")
	fs.IntVar(&l.MaxImages, "max-images", 32, "most images in one multipart request")
	fs.DurationVar(&l.Timeout, "timeout", 30*time.Second, "per-request time limit, queueing included")
	fs.IntVar(&l.MaxConcurrent, "max-concurrent", 256, "most classify/embed requests handled at once; beyond, 503")
	grace := fs.Duration("grace", 30*time.Second, "on SIGTERM/SIGINT, how long requests in flight may take to finish")
	logLevel := fs.String("log-level", "info", "debug (one line per request), info, warn or error")
	logFormat := fs.String("log-format", "text", "text or json (log/slog)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile from start to shutdown to this file (go tool pprof)")
	cf := addContractFlags(fs)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: googlenet serve --weights W [--addr 127.0.0.1:8080] [flags]")
		fmt.Fprintln(fs.Output(), "\nPOST /v1/classify and /v1/embed (an image as the body, or multipart/form-data), GET /healthz, GET /metrics.")
		fmt.Fprintln(fs.Output(), "SIGTERM or SIGINT: stop accepting, finish the requests in flight, exit 0. See docs/serving.md.")
		fmt.Fprintln(fs.Output(), "The input contract (resize, crop, channel order, normalisation) comes with the weights and is logged at start;")
		fmt.Fprintln(fs.Output(), "--input and the --input-* flags override it (docs/pretrained.md).")
		fs.PrintDefaults()
	}
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	usageErr := func(format string, a ...any) int {
		return usageErrorf(stderr, "serve", format, a...)
	}
	if fs.NArg() > 0 {
		return usageErr("unexpected arguments %q", fs.Args())
	}
	if *wf.weights == "" {
		return usageErr("--weights is required")
	}
	if strings.Contains(*wf.weights, ",") {
		return usageErr("--weights: one file (ensembles are not served)")
	}
	for _, c := range []struct {
		name string
		v    int64
	}{
		{"--max-batch", int64(o.MaxBatch)}, {"--queue", int64(o.QueueSize)}, {"--topk", int64(o.TopK)},
		{"--min-side", int64(o.MinSide)}, {"--max-body", l.MaxBodyBytes}, {"--max-pixels", l.MaxPixels},
		{"--max-images", int64(l.MaxImages)}, {"--max-concurrent", int64(l.MaxConcurrent)},
	} {
		if c.v < 1 {
			return usageErr("%s %d must be at least 1", c.name, c.v)
		}
	}
	if o.Workers < 0 {
		return usageErr("--workers %d must not be negative", o.Workers)
	}
	if l.Timeout <= 0 || *grace <= 0 {
		return usageErr("--timeout and --grace must be positive")
	}
	if *batchList != "" {
		for _, f := range strings.Split(*batchList, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < 1 {
				return usageErr("--batch-sizes %q: want whole numbers of at least 1, comma-separated", *batchList)
			}
			o.BatchSizes = append(o.BatchSizes, n)
		}
	}
	if *memLimit < -1 {
		return usageErr("--memory-limit %d: want bytes, 0 (auto) or -1 (none)", *memLimit)
	}
	if o.MaxWait == 0 {
		o.MaxWait = -1 // the flag's 0 means no wait, not the library's default
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return usageErr("--log-level %q: want debug, info, warn or error", *logLevel)
	}
	hopts := &slog.HandlerOptions{Level: level}
	var log *slog.Logger
	switch *logFormat {
	case "text":
		log = slog.New(slog.NewTextHandler(stderr, hopts))
	case "json":
		log = slog.New(slog.NewJSONHandler(stderr, hopts))
	default:
		return usageErr("--log-format %q: want text or json", *logFormat)
	}
	fail := func(err error) int {
		log.Error("googlenet serve: " + err.Error())
		return 1
	}
	release, err := wf.use(stderr)
	if err != nil {
		if exitCode(err) == 2 {
			return usageErr("%v", err)
		}
		return fail(err)
	}
	defer release()
	m, meta, err := eval.LoadModel(*wf.weights, wf.loadOptions())
	if err != nil {
		return fail(err)
	}
	members := []eval.Member{{Model: m, Meta: meta}}
	if _, err := cf.applyMembers(members); err != nil {
		return usageErr("%v", err)
	}
	meta = members[0].Meta
	if *labelsFile != "" {
		if o.Labels, err = data.ReadLabels(*labelsFile); err != nil {
			return fail(err)
		}
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return fail(err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fail(err)
		}
		defer pprof.StopCPUProfile()
	}
	start := time.Now()
	c, err := serve.New(m, meta, o)
	if err != nil {
		return fail(err)
	}
	defer c.Close()
	info := c.Info()
	limit := setMemoryLimit(*memLimit)
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fail(err)
	}
	log.Info("serving", "addr", ln.Addr().String(), "weights", info.Source, "variant", info.Variant,
		"input", info.InputSize, "classes", info.Classes, "workers", info.Workers, "max_batch", info.MaxBatch,
		"batch_sizes", fmt.Sprint(info.BatchSizes), "weight_bytes", info.Weights, "memory_limit", limit,
		"input_contract", info.Input.String(),
		"ready_in", time.Since(start).Round(time.Millisecond).String())
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	h := serve.NewHandler(c, serve.HandlerOptions{Limits: l, Logger: log})
	if err := serve.Serve(ctx, ln, h, *grace); err != nil {
		return fail(err)
	}
	if err := c.Close(); err != nil {
		return fail(err)
	}
	s := c.Stats()
	log.Info("stopped", "images", s.Images)
	return 0
}

// setMemoryLimit sets the Go runtime's soft memory limit and returns it
// (-1: none). The activations are allocated once at warm-up and make most
// of the heap, so the default proportional GC target (twice the live
// heap) would let garbage from requests grow the process by that much
// again before a collection; a limit just above the live heap keeps the
// resident memory flat. GOMEMLIMIT, when set, wins.
func setMemoryLimit(limit int64) int64 {
	if os.Getenv("GOMEMLIMIT") != "" {
		return debug.SetMemoryLimit(-1) // reads the current value
	}
	if limit < 0 {
		return -1
	}
	if limit == 0 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		limit = int64(ms.HeapAlloc)*9/8 + 64<<20
	}
	debug.SetMemoryLimit(limit)
	return limit
}

package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"github.com/goinception/googlenet/serve"
)

func init() {
	register(command{
		Name:    "loadtest",
		Summary: "load a local googlenet serve (loopback only): throughput, latency percentiles, errors, batch sizes",
		Run:     runLoadtest,
	})
}

func runLoadtest(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o serve.LoadOptions
	fs.StringVar(&o.URL, "url", "http://127.0.0.1:8080", "the server (a loopback address)")
	fs.StringVar(&o.Path, "endpoint", "classify", "classify or embed")
	fs.IntVar(&o.Clients, "clients", 8, "concurrent clients, one request at a time each")
	fs.DurationVar(&o.Duration, "duration", 10*time.Second, "how long to run")
	fs.IntVar(&o.Requests, "requests", 0, "stop after this many requests (0: no limit but --duration)")
	imagePath := fs.String("image", "", "JPEG or PNG to send (default: a 256x256 JPEG gradient)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: googlenet loadtest [--url http://127.0.0.1:8080] [--clients 8] [--duration 10s] [--requests N] [--image FILE] [--json]")
		fmt.Fprintln(fs.Output(), "\nBounded in time and requests; refuses hosts other than this machine's loopback.")
		fs.PrintDefaults()
	}
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	usageErr := func(format string, a ...any) int {
		return usageErrorf(stderr, "loadtest", format, a...)
	}
	if fs.NArg() > 0 {
		return usageErr("unexpected arguments %q", fs.Args())
	}
	if o.Clients < 1 || o.Duration <= 0 || o.Requests < 0 {
		return usageErr("--clients must be at least 1, --duration positive, --requests not negative")
	}
	if *imagePath != "" {
		b, err := os.ReadFile(*imagePath)
		if err != nil {
			fmt.Fprintln(stderr, "googlenet loadtest:", err)
			return 1
		}
		o.Body = b
	}
	o.Progress = func(done int, elapsed time.Duration) {
		if s := int(elapsed.Seconds()); s%5 == 0 && s > 0 {
			fmt.Fprintf(stderr, "loadtest: %ds, %d requests\n", s, done)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	rep, err := serve.LoadTest(ctx, o)
	if errors.Is(err, serve.ErrBadTarget) {
		return usageErr("%v", err)
	}
	if err != nil {
		fmt.Fprintln(stderr, "googlenet loadtest:", err)
		return 1
	}
	if *asJSON {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			fmt.Fprintln(stderr, "googlenet loadtest:", err)
			return 1
		}
		fmt.Fprintln(stdout, string(b))
	} else if err := rep.WriteText(stdout); err != nil {
		fmt.Fprintln(stderr, "googlenet loadtest:", err)
		return 1
	}
	if rep.Errors > 0 {
		return 1
	}
	return 0
}

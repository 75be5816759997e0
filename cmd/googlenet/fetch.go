package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/goinception/googlenet/fetch"
)

func init() {
	register(command{
		Name:    "fetch",
		Summary: "download published GoogLeNet weights (torchvision, zoo, caffe) or any file by URL, hash-verified",
		Run:     runFetch,
	})
}

func runFetch(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("fetch", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "destination folder (default: the cache, $GOOGLENET_CACHE or googlenet/weights under the user's cache directory)")
	rawURL := fs.String("url", "", "fetch this URL instead of a published file (needs --sha256); stored as DIR/<basename of the URL>")
	sum := fs.String("sha256", "", "the file's SHA-256 (64 hex digits), with --url")
	progress := fs.String("progress", "auto", "progress display: auto (a bar on a terminal, log lines otherwise), bar, log, none")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: googlenet fetch torchvision|zoo|caffe [--out DIR]")
		fmt.Fprintln(fs.Output(), "       googlenet fetch --url URL --sha256 HEX [--out DIR]")
		fmt.Fprintln(fs.Output(), "\nDownloads to DIR/NAME.partial, resumes a partial download, and renames it to DIR/NAME only after the hash matches.")
		fmt.Fprintln(fs.Output(), "Prints the file's path. Sources:")
		for _, s := range fetch.Published {
			fmt.Fprintf(fs.Output(), "  %-12s %s\n  %-12s %s\n", s.Name, s.URL, "", s.Note)
		}
		fs.PrintDefaults()
	}
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	usageErr := func(format string, a ...any) int {
		return usageErrorf(stderr, "fetch", format, a...)
	}
	var src fetch.Source
	switch {
	case *rawURL != "" && len(pos) > 0:
		return usageErr("give a source name or --url, not both")
	case *rawURL != "":
		if src, err = fetch.URLSource(*rawURL, *sum); err != nil {
			return usageErr("%v", err)
		}
	case *sum != "":
		return usageErr("--sha256 goes with --url")
	case len(pos) != 1:
		return usageErr("want one source (torchvision, zoo or caffe) or --url URL --sha256 HEX")
	default:
		if src, err = fetch.Lookup(pos[0]); err != nil {
			return usageErr("%v", err)
		}
	}
	switch *progress {
	case "auto", "bar", "log", "none":
	default:
		return usageErr("--progress %q unknown (want auto, bar, log or none)", *progress)
	}
	mode := *progress
	if mode == "auto" {
		mode = "log"
		if isTerminal(stderr) {
			mode = "bar"
		}
	}
	o := fetch.Options{Dir: *out}
	var bar *progressbar.ProgressBar
	switch mode {
	case "bar":
		o.Progress = func(done, total int64) {
			if bar == nil {
				bar = progressbar.NewOptions64(total, progressbar.OptionSetWriter(stderr), progressbar.OptionSetDescription(src.Name),
					progressbar.OptionShowBytes(true), progressbar.OptionSetWidth(30), progressbar.OptionClearOnFinish())
			}
			_ = bar.Set64(done)
		}
	case "log":
		last := time.Time{}
		o.Progress = func(done, total int64) {
			if time.Since(last) < 5*time.Second && done != total {
				return
			}
			last = time.Now()
			if total > 0 {
				fmt.Fprintf(stderr, "googlenet fetch: %s: %d of %d bytes (%.0f%%)\n", src.Name, done, total, 100*float64(done)/float64(total))
			} else {
				fmt.Fprintf(stderr, "googlenet fetch: %s: %d bytes\n", src.Name, done)
			}
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := fetch.Fetch(ctx, src, o)
	if bar != nil {
		_ = bar.Finish()
	}
	if err != nil {
		fmt.Fprintln(stderr, "googlenet fetch:", err)
		return 1
	}
	how := "downloaded"
	switch {
	case res.Cached:
		how = "already there, hash verified"
	case res.Resumed > 0:
		how = fmt.Sprintf("resumed after %d bytes", res.Resumed)
	}
	fmt.Fprintf(stderr, "googlenet fetch: %s: %s (%s; sha256 %s)\n", src.Name, how, src.Digest, res.SHA256)
	if src.Digest.Algo == "sha1" {
		fmt.Fprintln(stderr, "googlenet fetch: the publisher gives only a SHA-1; pin the SHA-256 above for mirrors (--url ... --sha256)")
	}
	fmt.Fprintln(stdout, res.Path)
	return 0
}

package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"sort"
	"strings"

	"github.com/goinception/googlenet/bench"
	"github.com/goinception/googlenet/inception"
)

func init() {
	register(command{
		Name:    "bench",
		Summary: "time inference or training steps (img/s, ms per batch, peak RSS), optionally beside PyTorch",
		Run:     runBench,
	})
}

func runBench(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c bench.Config
	fs.StringVar(&c.Variant, "variant", inception.VariantPaper, "network: "+strings.Join(inception.Variants, ", "))
	fs.StringVar(&c.Mode, "mode", bench.ModeInfer, "infer (forward, no aux heads) or train (forward with aux heads, backward, SGD momentum)")
	fs.IntVar(&c.Batch, "batch", 8, "images per batch")
	fs.IntVar(&c.Iters, "iters", 10, "timed iterations (the median is reported)")
	fs.IntVar(&c.Warmup, "warmup", 2, "untimed iterations first (0: none)")
	fs.IntVar(&c.InputSize, "input", 0, "input height and width (0: the variant's default, 224 or 28 for mini)")
	fs.StringVar(&c.FreezeThrough, "freeze-through", "", "with --mode train: freeze the main path through this layer (e.g. inception_4e), as fine-tuning with a frozen trunk does")
	fs.StringVar(&c.Engine, "engine", bench.EngineCPU, "cpu (fast engine) or reference (pure-Go spec)")
	device := addDeviceFlag(fs)
	seed := fs.Uint64("seed", 1, "seed of weights and inputs")
	asJSON := fs.Bool("json", false, "print one JSON object")
	peer := fs.String("peer", "", "also run this peer on the same workload: shared/peers/torch_googlenet_bench.py (PyTorch, torchvision's GoogLeNet) or ort_googlenet_bench.mjs (ONNX Runtime on our own ONNX export of the same variant and weights; inference only)")
	python := fs.String("python", bench.DefaultPython, "interpreter for a PyTorch --peer (needs torch and torchvision)")
	peerThreads := fs.Int("peer-threads", 0, "the peer's threads (0: one per core)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the run (model build included) to this file")
	strict := addStrictFlag(fs)
	rounds := fs.Int("rounds", 1, "repeat the measurement (the peer, then ours, with --peer) and report medians over the rounds; peak RSS is from the first round")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: googlenet bench [--variant paper|torchvision|mini] [--mode infer|train] [--batch B] [--iters N] [--warmup W] [--input S] [--freeze-through L] [--device cpu|gpu] [--strict-fp32] [--engine cpu|reference] [--json] [--peer SCRIPT.py|SCRIPT.mjs] [--rounds R]")
		fs.PrintDefaults()
	}
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "googlenet bench: unexpected arguments %q\n", fs.Args())
		fs.Usage()
		return 2
	}
	if c.Batch <= 0 || c.Iters <= 0 || c.InputSize < 0 || c.Warmup < 0 || *rounds <= 0 {
		fmt.Fprintln(stderr, "googlenet bench: --batch, --iters and --rounds must be positive, --input and --warmup not negative")
		fs.Usage()
		return 2
	}
	if (c.Mode != bench.ModeInfer && c.Mode != bench.ModeTrain) || (c.Engine != bench.EngineCPU && c.Engine != bench.EngineReference) {
		fmt.Fprintf(stderr, "googlenet bench: --mode %q or --engine %q not known\n", c.Mode, c.Engine)
		fs.Usage()
		return 2
	}
	if err := checkDevice(*device); err != nil {
		fmt.Fprintln(stderr, "googlenet bench:", err)
		return 2
	}
	if *device == "gpu" {
		if *peer != "" || c.FreezeThrough != "" || *rounds != 1 || *cpuProfile != "" {
			fmt.Fprintln(stderr, "googlenet bench: --device gpu takes no --peer, --freeze-through, --rounds or --cpuprofile (the GPU peer is scripts/cuda-torch-bench.py, run by scripts/gpu-check.sh)")
			return 2
		}
		if _, err := inception.ConfigFor(c.Variant); err != nil {
			fmt.Fprintln(stderr, "googlenet bench:", err)
			return 2
		}
		c.Seed = *seed
		return runBenchGPU(c, *strict, *asJSON, stdout, stderr)
	}
	if c.Warmup == 0 {
		c.Warmup = -1 // bench.Config: negative means none
	}
	if _, err := inception.ConfigFor(c.Variant); err != nil {
		fmt.Fprintln(stderr, "googlenet bench:", err)
		fs.Usage()
		return 2
	}
	c.Seed = *seed
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintln(stderr, "googlenet bench:", err)
			return 1
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(stderr, "googlenet bench:", err)
			return 1
		}
		defer pprof.StopCPUProfile()
	}
	pc := bench.PeerConfig{Python: *python, Script: *peer, Threads: *peerThreads}
	if *peer != "" && bench.IsORTPeer(*peer) {
		if c.Mode != bench.ModeInfer {
			fmt.Fprintln(stderr, "googlenet bench: the ONNX Runtime peer runs inference only: use --mode infer, or the PyTorch peer for training")
			return 2
		}
		dir, err := os.MkdirTemp("", "googlenet-bench-")
		if err != nil {
			fmt.Fprintln(stderr, "googlenet bench:", err)
			return 1
		}
		defer os.RemoveAll(dir)
		pc.Model = filepath.Join(dir, c.Variant+".onnx")
		if err := bench.ExportONNX(c, pc.Model); err != nil {
			fmt.Fprintln(stderr, "googlenet bench:", err)
			return 1
		}
		// The export's memory is not part of our benchmark: give it back
		// and measure the peak from here.
		runtime.GC()
		debug.FreeOSMemory()
		if err := bench.ResetPeakRSS(); err != nil {
			fmt.Fprintf(stderr, "googlenet bench: %v; our peak RSS includes the ONNX export\n", err)
		}
	}
	var ours []bench.Result
	var peers []bench.PeerResult
	for i := 0; i < *rounds; i++ {
		// The peer runs first, while this process is still small: a child
		// started by fork/exec inherits the parent's peak RSS as its own
		// ru_maxrss on Linux, which would report our peak as PyTorch's.
		// That is also why peak RSS comes from the first round only.
		if *peer != "" {
			p, err := bench.RunPeer(pc, c)
			if err != nil {
				fmt.Fprintln(stderr, "googlenet bench:", err)
				return 1
			}
			peers = append(peers, p)
		}
		r, err := bench.Run(c)
		if err != nil {
			fmt.Fprintln(stderr, "googlenet bench:", err)
			return 1
		}
		ours = append(ours, r)
		if *rounds > 1 && !*asJSON {
			line := fmt.Sprintf("round %d/%d: ours %.2f img/s", i+1, *rounds, r.ImgPerS)
			if len(peers) > 0 {
				line += fmt.Sprintf(", peer %.2f img/s (%.2fx)", peers[i].ImgPerS, r.ImgPerS/peers[i].ImgPerS)
			}
			fmt.Fprintln(stderr, line)
		}
		runtime.GC()
		debug.FreeOSMemory() // the next round's model starts from a clean heap
	}
	r := ours[0]
	r.ImgPerS, r.MsPerBatch, r.CPUMsPerBatch, r.GFLOPs = medianOf(ours, func(x bench.Result) float64 { return x.ImgPerS }),
		medianOf(ours, func(x bench.Result) float64 { return x.MsPerBatch }),
		medianOf(ours, func(x bench.Result) float64 { return x.CPUMsPerBatch }),
		medianOf(ours, func(x bench.Result) float64 { return x.GFLOPs })
	var pr *bench.PeerResult
	if len(peers) > 0 {
		p := peers[0]
		p.ImgPerS = medianOf(peers, func(x bench.PeerResult) float64 { return x.ImgPerS })
		p.MsPerBatch = medianOf(peers, func(x bench.PeerResult) float64 { return x.MsPerBatch })
		pr = &p
	}
	var perRound []float64
	if *rounds > 1 && pr != nil {
		for i := range ours {
			perRound = append(perRound, ours[i].ImgPerS/peers[i].ImgPerS)
		}
	}
	if *asJSON {
		out := struct {
			bench.Result
			Rounds          int               `json:"rounds"`
			RoundImgPerS    []float64         `json:"round_img_per_s,omitempty"`
			Peer            *bench.PeerResult `json:"peer,omitempty"`
			PeerRoundImgPer []float64         `json:"peer_round_img_per_s,omitempty"`
			SpeedupVsPeer   float64           `json:"speedup_vs_peer,omitempty"`
			RoundSpeedups   []float64         `json:"round_speedups,omitempty"`
			RSSVsPeer       float64           `json:"rss_vs_peer,omitempty"`
		}{Result: r, Rounds: *rounds, Peer: pr, RoundSpeedups: perRound}
		if *rounds > 1 {
			for i := range ours {
				out.RoundImgPerS = append(out.RoundImgPerS, ours[i].ImgPerS)
			}
			for i := range peers {
				out.PeerRoundImgPer = append(out.PeerRoundImgPer, peers[i].ImgPerS)
			}
		}
		if pr != nil && pr.ImgPerS > 0 && pr.PeakRSSBytes > 0 {
			out.SpeedupVsPeer = r.ImgPerS / pr.ImgPerS
			out.RSSVsPeer = float64(r.PeakRSSBytes) / float64(pr.PeakRSSBytes)
		}
		if err := json.NewEncoder(stdout).Encode(out); err != nil {
			fmt.Fprintln(stderr, "googlenet bench:", err)
			return 1
		}
		return 0
	}
	of := fmt.Sprintf("median of %d; min %.1f, max %.1f", r.Iters, r.MinMs, r.MaxMs)
	if *rounds > 1 {
		of = fmt.Sprintf("median of %d rounds of %d iterations; min %.1f, max %.1f in the first", *rounds, r.Iters, r.MinMs, r.MaxMs)
	}
	mode := r.Mode
	if r.FreezeThrough != "" {
		mode += " frozen through " + r.FreezeThrough
	}
	fmt.Fprintf(stdout, "ours:  %s %s batch %d input %d, %s, %d threads\n", r.Variant, mode, r.Batch, r.InputSize, r.Engine, r.Threads)
	fmt.Fprintf(stdout, "       %.2f img/s, %.1f ms/batch (%s), %.1f GFLOP/s, peak RSS %s\n",
		r.ImgPerS, r.MsPerBatch, of, r.GFLOPs, mib(r.PeakRSSBytes))
	fmt.Fprintf(stdout, "       CPU time %.1f ms/batch (all threads); RSS after warm-up %s, at end %s\n", r.CPUMsPerBatch, mib(r.RSSAfterWarm), mib(r.RSSAtEnd))
	fmt.Fprintf(stdout, "       checked: %s\n", r.Checked)
	if pr != nil {
		fmt.Fprintf(stdout, "peer:  %s, %d threads\n", pr.Peer, pr.Threads)
		fmt.Fprintf(stdout, "       %.2f img/s, %.1f ms/batch, peak RSS %s\n", pr.ImgPerS, pr.MsPerBatch, mib(pr.PeakRSSBytes))
		if pr.ImgPerS > 0 && pr.PeakRSSBytes > 0 {
			fmt.Fprintf(stdout, "ratio: %.2fx the peer's img/s, %.2fx its peak RSS\n", r.ImgPerS/pr.ImgPerS, float64(r.PeakRSSBytes)/float64(pr.PeakRSSBytes))
		}
		if len(perRound) > 0 {
			lo, hi := perRound[0], perRound[0]
			for _, v := range perRound {
				lo, hi = min(lo, v), max(hi, v)
			}
			fmt.Fprintf(stdout, "       per round: %.2fx to %.2fx (ours and the peer alternate, so both see the same machine)\n", lo, hi)
		}
	}
	return 0
}

// medianOf returns the median of f over xs (the mean of the middle two for
// an even count).
func medianOf[T any](xs []T, f func(T) float64) float64 {
	v := make([]float64, len(xs))
	for i, x := range xs {
		v[i] = f(x)
	}
	sort.Float64s(v)
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}

func mib(b int64) string { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)) }

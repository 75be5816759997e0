package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/goinception/googlenet/eval"
	"github.com/goinception/googlenet/inception"
	"github.com/goinception/googlenet/preprocess"
)

func init() {
	register(command{
		Name:    "summary",
		Summary: "print the network layer by layer (shapes, parameters, multiply-adds)",
		Run:     runSummary,
	})
}

func runSummary(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("summary", flag.ContinueOnError)
	fs.SetOutput(stderr)
	variant := fs.String("variant", inception.VariantPaper, "network: "+strings.Join(inception.Variants, ", "))
	classes := fs.Int("classes", 0, "number of classes (0: the variant's default, 1000 or 10 for mini)")
	input := fs.Int("input", 0, "input height and width S (0: the variant's default, 224 or 28 for mini)")
	channels := fs.Int("channels", 0, "input channels (0: the variant's default, 3 or 1 for mini)")
	asJSON := fs.Bool("json", false, "print one JSON object instead of a table")
	weights := fs.String("weights", "", "summarise the model in this weights file (any format --weights takes elsewhere) and print its input contract;\nthe other flags are then ignored")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: googlenet summary [--variant paper|torchvision|mini] [--classes N] [--input S] [--channels C] [--json]")
		fs.PrintDefaults()
	}
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "googlenet summary: unexpected arguments %q\n", fs.Args())
		fs.Usage()
		return 2
	}
	var contract *preprocess.Contract
	cfg, err := inception.ConfigFor(*variant)
	if *weights != "" {
		m, meta, err := eval.LoadModel(*weights, eval.LoadOptions{})
		if err != nil {
			fmt.Fprintln(stderr, "googlenet summary:", err)
			return 1
		}
		cfg = m.Config()
		in := eval.Member{Model: m, Meta: meta}.Contract()
		contract = &in
		*classes, *input, *channels = 0, 0, 0
	} else if err != nil {
		fmt.Fprintln(stderr, "googlenet summary:", err)
		fs.Usage()
		return 2
	}
	for _, f := range []struct {
		name string
		v    int
		dst  *int
	}{{"classes", *classes, &cfg.Classes}, {"input", *input, &cfg.InputSize}, {"channels", *channels, &cfg.InChannels}} {
		if f.v < 0 {
			fmt.Fprintf(stderr, "googlenet summary: --%s %d must be positive\n", f.name, f.v)
			fs.Usage()
			return 2
		}
		if f.v > 0 {
			*f.dst = f.v
		}
	}
	s, err := inception.Summarize(cfg)
	if err != nil {
		// Every failure here comes from the flags (an input too small for
		// the variant, say): a usage error.
		fmt.Fprintln(stderr, "googlenet summary:", err)
		return 2
	}
	if *asJSON {
		var v any = s
		if contract != nil {
			// The summary's own JSON object with the contract added.
			var obj map[string]json.RawMessage
			b, err := json.Marshal(s)
			if err == nil {
				err = json.Unmarshal(b, &obj)
			}
			if err == nil {
				obj["input_contract"], err = json.Marshal(contract)
			}
			if err != nil {
				fmt.Fprintln(stderr, "googlenet summary:", err)
				return 1
			}
			v = obj
		}
		b, err := json.Marshal(v)
		if err != nil {
			fmt.Fprintln(stderr, "googlenet summary:", err)
			return 1
		}
		fmt.Fprintln(stdout, string(b))
		return 0
	}
	if err := s.WriteText(stdout); err != nil {
		fmt.Fprintln(stderr, "googlenet summary:", err)
		return 1
	}
	if contract != nil {
		fmt.Fprintf(stdout, "input: %s\n", contract)
	}
	return 0
}
